"""Running a model on a simulated board: import, schedule, plan, generate, build, simulate,
compare with the reference, and assemble one `NNResult`.

    from mcusim.nn.run import run_model
    result = run_model("../shared/models/kws_ref_model.tflite", "nucleo-l4r5zi")
    print(result.cycles, result.reference)

The firmware reads its inputs by semihosting from a private directory, the outputs are read
from the arena after the run (symbol `nn_arena`), and with `check_layers` every step's output is
read when its region ends (a code hook on `mcusim_region_end`: no firmware change, no cycles).
"""

from __future__ import annotations

import io
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mcusim.nn.build import Build, build, memory_sizes
from mcusim.nn.codegen import ARENA_SYMBOL, INFERENCE_REGION, SCRATCH_EXIT, generate
from mcusim.nn.compare import describe_mismatch
from mcusim.nn.graph import Graph
from mcusim.nn.planner import ArenaPlan, plan_layers
from mcusim.nn.reference import default_inputs, run_reference
from mcusim.nn.result import NNResult
from mcusim.nn.schedule import Schedule, layer_schedule
from mcusim.nn.sim_api import (
    REGION_END,
    BoardSpec,
    ExitCode,
    Firmware,
    InputError,
    McusimError,
    Simulation,
    Terminated,
    load_board,
    new_simulation,
)
from mcusim.nn.tflite_import import load_model

STACK_RESERVE = 8 * 1024  # kernels_c/ld/common.ld keeps this much RAM free for the stack
RAM_CODE_BYTES = 4 * 1024  # the kernels' hot loops when in RAM (about 3 KB, nn-kernels-api.md)


class DoesNotFitError(McusimError):
    """The model's firmware needs more RAM or flash than the board has."""

    exit_code = ExitCode.MEMORY_BUDGET  # 85: the board's memory is the budget


class FirmwareRunError(McusimError):
    """The generated firmware faulted or did not exit 0: a bug in the model path or kernels."""

    exit_code = ExitCode.INTERNAL


@dataclass
class Prepared:
    """Everything before the simulation: what `--emit` writes and what a run builds."""

    graph: Graph
    schedule: Schedule
    plan: ArenaPlan
    board: BoardSpec
    code_in_ram: bool  # the kernels' hot loops run from RAM (-DNN_CODE_IN_RAM)

    @property
    def cflags(self) -> tuple[str, ...]:
        # gas notes the .data section of the RAM-resident code; it is intended.
        return ("-DNN_CODE_IN_RAM", "-Wa,--no-warn") if self.code_in_ram else ()


def prepare(model: str | Path | Graph, board: str | BoardSpec,
            schedule: Schedule | None = None, clock: str | None = None,
            code_in_ram: bool | None = None) -> Prepared:
    """code_in_ram: None = when the board's flash has wait states at its clock and the RAM
    has room for the hot loops too (what vendor start-up code does with RAM functions); not on
    the Cortex-M7, whose RAM at 0x20000000 is its DTCM (no instruction fetch) and which has
    an instruction cache of its own."""
    graph = model if isinstance(model, Graph) else load_model(model)
    spec = board if isinstance(board, BoardSpec) else load_board(board, clock=clock)
    schedule = schedule or layer_schedule(graph)
    plan = plan_for(graph, schedule)
    plan.check()
    _check_fits(graph, plan, spec)
    if code_in_ram is None:
        ram = memory_sizes(spec.name).get("RAM", 0)
        slow_flash = any(r.kind == "flash" and r.wait_states(spec.clock_hz) > 0
                         for r in spec.regions)
        code_in_ram = (slow_flash and spec.core.name != "cortex-m7"
                       and plan.arena_bytes + STACK_RESERVE + RAM_CODE_BYTES <= ram)
    return Prepared(graph, schedule, plan, spec, code_in_ram)


def plan_for(graph: Graph, schedule: Schedule) -> ArenaPlan:
    """The arena plan of a schedule: whole-operator steps here; schedules whose steps split
    operators (Pex) bring their own planner."""
    if all(step.whole for step in schedule):
        return plan_layers(graph, schedule)
    from mcusim.nn.pex.planner import plan_pex  # partial execution (issue 11): slices

    return plan_pex(graph, schedule)


def _check_fits(graph: Graph, plan: ArenaPlan, board: BoardSpec) -> None:
    sizes = memory_sizes(board.name)
    ram, flash = sizes.get("RAM", 0), sizes.get("FLASH", 0)
    need_ram = plan.arena_bytes + STACK_RESERVE
    if need_ram > ram:
        raise DoesNotFitError(
            f"{graph.name} does not fit {board.name}: needs {need_ram:,} bytes of RAM (arena "
            f"{plan.arena_bytes:,} + {STACK_RESERVE:,} reserved for the stack), the board has "
            f"{ram:,}")
    if graph.weight_bytes() > flash:
        raise DoesNotFitError(
            f"{graph.name} does not fit {board.name}: needs {graph.weight_bytes():,} bytes of "
            f"flash for the weights alone, the board has {flash:,}")


def build_prepared(p: Prepared, progress: Callable[[str], None] | None = None) -> Build:
    from mcusim.nn.build import BuildError

    try:
        return build(generate(p.graph, p.schedule, p.plan), p.board.name, p.cflags, progress)
    except BuildError as e:
        if "does not fit" in str(e):
            raise DoesNotFitError(f"{p.graph.name} {e}") from None
        raise


def run_model(model: str | Path | Graph, board: str | BoardSpec, *,
              inputs: list[np.ndarray] | None = None, schedule: Schedule | None = None,
              check_layers: bool = False, live_bytes: bool = False,
              clock: str | None = None, code_in_ram: bool | None = None,
              progress: Callable[[str], None] | None = None) -> NNResult:
    """Build (or take from the cache) and run one inference; compare with the reference.

    live_bytes: measure live bytes per step. It records every RAM access (memory and time grow
    with the model: ~1 GB and 20 s for ResNet-8), so it is off unless asked for."""
    say = progress or (lambda _msg: None)
    p = prepare(model, board, schedule, clock, code_in_ram)
    graph = p.graph
    inputs = inputs if inputs is not None else default_inputs(graph)
    inputs = [np.asarray(x).reshape(graph.tensors[t].shape).astype(graph.tensors[t].dtype)
              for x, t in zip(inputs, graph.inputs, strict=True)]
    say(f"building {graph.name} for {p.board.name}")
    b = build_prepared(p, progress)
    running = f"running {graph.name} on {p.board.name}" + (
        " (recording every RAM access for the live bytes, slow)" if live_bytes else "")
    say(running)
    run, outputs, layer_outputs = _simulate(p, b.elf, inputs, check_layers, live_bytes,
                                            progress and (running, progress))
    say("computing the reference outputs")
    reference = run_reference(graph, inputs)
    from mcusim.nn.result import assemble

    verdict = describe_mismatch(graph, p.schedule, reference, outputs, layer_outputs)
    return assemble(p, b, run, outputs, verdict)


def _simulate(p: Prepared, elf: Path, inputs: list[np.ndarray], check_layers: bool,
              live_bytes: bool, progress: tuple[str, Callable[[str], None]] | None = None):
    firmware = Firmware.open(elf)
    arena = firmware.symbols.get(ARENA_SYMBOL)
    end = firmware.symbols.get(REGION_END)
    if arena is None or end is None:
        raise InputError(f"{elf}: no {ARENA_SYMBOL} / {REGION_END} symbol")
    with tempfile.TemporaryDirectory(prefix="mcusim-nn-") as root:
        for n, x in enumerate(inputs):
            (Path(root) / f"nn_input{n}.bin").write_bytes(np.ascontiguousarray(x).tobytes())
        out, err = io.BytesIO(), io.BytesIO()
        sim = new_simulation(firmware, p.board, fs_root=Path(root), stdout=out, stderr=err,
                             record_accesses=live_bytes)
        layer_outputs: dict[int, np.ndarray] = {}
        if check_layers:
            _hook_layer_outputs(sim, p, arena.address, end.address, layer_outputs)
        if progress is not None:
            _report_steps(sim, p.schedule, *progress, live_bytes)
        result = sim.run()
    # Ctrl-C or SIGTERM stopped the run (sim/core/interrupt.py): the command stops as `mcusim
    # run` does (130, 143), not as a firmware that failed (70, "did not finish").
    if result.stop == "interrupted":
        raise KeyboardInterrupt
    if result.stop == "terminated":
        raise Terminated("terminated (SIGTERM) while the model firmware ran; nothing was "
                         "written")
    if result.stop != "exit" or result.exit_code != 0:
        why = result.fault.message if result.fault else f"exit code {result.exit_code}"
        if result.exit_code == SCRATCH_EXIT:
            why = ("a kernel needs more scratch than the plan gives it (the kernel library's "
                   "scratch formula changed: nn/planner.py scratch_bytes)")
        raise FirmwareRunError(f"the model firmware {elf} did not finish: {why} "
                               f"({err.getvalue().decode(errors='replace').strip()})")
    outputs = {t: _read_tensor(sim, p, arena.address, t) for t in p.graph.outputs}
    return result, outputs, layer_outputs


def _report_steps(sim: Simulation, schedule: Schedule, running: str,
                  progress: Callable[[str], None], live_bytes: bool) -> None:
    """progress("RUNNING: step i/n NAME") as each step's region begins, and what follows the
    inference (a marker watcher: the run cannot notice it, its cycles are the same)."""
    index = {s.name: i for i, s in enumerate(schedule)}

    def on_marker(name: str, begin: bool) -> None:
        i = index.get(name)
        if begin and i is not None:
            progress(f"{running}: step {i + 1}/{len(schedule)} {name}")
        elif not begin and name == INFERENCE_REGION and live_bytes:
            # The live bytes are computed from every recorded access when the run ends.
            progress("computing the live bytes from the recorded accesses")

    sim.watch_markers(on_marker)


def _read_tensor(sim: Simulation, p: Prepared, arena: int, tensor: int) -> np.ndarray:
    t = p.graph.tensors[tensor]
    raw = sim.uc.mem_read(arena + p.plan.tensor_offset(tensor), t.nbytes)
    return np.frombuffer(bytes(raw), dtype=t.dtype).reshape(t.shape).copy()


def _hook_layer_outputs(sim: Simulation, p: Prepared, arena: int, end: int,
                        into: dict[int, np.ndarray]) -> None:
    """At each step's region end, copy the tensor that step completed (through the engine's
    marker watchers: no hook of our own, nothing the run can notice)."""
    by_name = {s.name: i for i, s in enumerate(p.schedule)}
    last_step_of = {}
    for i, s in enumerate(p.schedule):
        last_step_of[s.op] = i  # a split operator's output is complete after its last part

    def on_marker(name: str, begin: bool) -> None:
        i = by_name.get(name)
        if begin or i is None:
            return
        op = p.schedule.steps[i].op
        t = p.graph.operators[op].outputs[0]
        # Tensors a partial schedule never holds whole (slice buffers only) are not compared.
        if last_step_of[op] == i and f"t{p.plan.aliases.get(t, t)}" in p.plan.buffers:
            into[t] = _read_tensor(sim, p, arena, t)

    sim.watch_markers(on_marker)
