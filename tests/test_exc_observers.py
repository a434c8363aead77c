"""Profile and memory accounting with exceptions, on programs (kernels_c/exc and small ones
built here): handlers are functions called by whatever they interrupted, the entry/exit/
tail-chain latencies are entries of their own, frames count on the stack they were pushed on,
and every accounting path gives the same figures. (tests/test_exc_trackers.py drives the
trackers with synthetic events.)"""

from __future__ import annotations

import io
import json
import re
from dataclasses import asdict
from pathlib import Path

import pytest

from mcusim.memory.board import load_board
from mcusim.sim import Firmware, MemoryOptions, ProfileOptions, ProgramIO, RunOptions
from mcusim.sim.accounting import native_lib
from mcusim.sim.accounting.batched import BatchedSimulation
from mcusim.sim.accounting.native import NativeSimulation
from mcusim.sim.cli import main
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.exc_event import ExceptionEvent
from mcusim.sim.core.observer import Observer
from mcusim.sim.core.result_build import LATENCY_ENTRIES
from mcusim.sim.result import RunResult
from mcusim.sim.simulation import accounting_path, observers_for
from mcusim.traces.profile import FunctionProfile
from tests import asm
from tests.conftest import simulate

PATHS = {"block": {"native": False, "batched": False}, "batched": {"native": False},
         "native": {"native": True}}


class _Recorder(Observer):
    """The exception events of a run, with the run's cycle count when each was raised."""

    def __init__(self) -> None:
        self.events: list[tuple[ExceptionEvent, int]] = []

    def attach(self, sim: Simulation) -> None:
        sim.watch_exceptions(lambda e: self.events.append((e, sim.cycles)))


def _run(elf: Path, board: str, path: str, *, memory: bool = True,
         record: bool = False) -> tuple[Simulation, RunResult, _Recorder, bytes]:
    if path == "native" and native_lib.load_library() is None:
        pytest.skip(f"native hot path not available: {native_lib.load_error()}")
    out = io.BytesIO()
    options = RunOptions(io=ProgramIO(stdout=out), profile=ProfileOptions(),
                         memory=MemoryOptions(record_accesses=record) if memory else None,
                         **PATHS[path])
    recorder = _Recorder()
    sim = accounting_path(options)(Firmware.open(elf), load_board(board), options,
                                   observers=[*observers_for(options), recorder])
    expected = {"block": Simulation, "batched": BatchedSimulation if not memory else Simulation,
                "native": NativeSimulation}[path]
    assert type(sim) is expected
    result = sim.run()
    return sim, result, recorder, out.getvalue()


def _profile_figures(r: RunResult) -> tuple:
    p = r.profile
    assert p is not None
    return (r.cycles, r.instructions, [asdict(f) for f in r.functions],
            [asdict(e) for e in p.edges], sorted(p.stacks.items()),
            [(s.name, s.kind, s.start_cycle, s.end_cycle, s.depth) for s in p.slices])


def _check_latency_entries(result: RunResult, recorder: _Recorder) -> dict[str, FunctionProfile]:
    """Each latency entry: one call per event of its kind, carrying exactly their cycles; and
    self cycles and collapsed stacks still add up to the run's total."""
    f = {x.name: x for x in result.functions}
    for kind, name in LATENCY_ENTRIES.items():
        events = [e for e, _ in recorder.events if e.kind == kind]
        if not events:
            assert name not in f
            continue
        assert f[name].calls == len(events)
        assert f[name].self_cycles == f[name].inclusive_cycles == sum(e.cycles for e in events)
        assert f[name].instructions == 0
    assert sum(x.self_cycles for x in f.values()) == result.cycles
    assert sum(x.instructions for x in f.values()) == result.instructions
    assert result.profile is not None and sum(result.profile.stacks.values()) == result.cycles
    # A handler is called once per entry into it (these programs never call one directly).
    entered: dict[int, int] = {}
    for e, _ in recorder.events:
        if e.kind != "return":
            entered[e.handler] = entered.get(e.handler, 0) + 1
    by_address = {x.address: x for x in f.values() if x.address is not None}
    assert {a: by_address[a].calls for a in entered} == entered
    return f


def test_systick_handler_profile_and_stack(kernels):
    board = "mps2-an386"
    sim, result, recorder, out = _run(kernels / board / "systick_count.elf", board, "block")
    assert result.exit_code == 0, out
    ticks = int(re.search(rb"systick: (\d+) ticks", out).group(1))
    entries = [e for e, _ in recorder.events if e.kind == "entry"]
    assert ticks == 11 and len(entries) == ticks
    f = _check_latency_entries(result, recorder)
    assert f["SysTick_Handler"].calls == ticks
    # The core's documented latencies (isa/cycles, no wait states on this board's code RAM).
    table = sim.timing.table.exceptions  # type: ignore[attr-defined]
    assert f["[exception entry]"].self_cycles == ticks * table["entry"]
    assert f["[exception exit]"].self_cycles == ticks * table["exit"]
    # The handler's inclusive cost is the whole interrupt: entry, body, exit.
    assert f["SysTick_Handler"].inclusive_cycles == (
        f["SysTick_Handler"].self_cycles + f["[exception entry]"].self_cycles
        + f["[exception exit]"].self_cycles)
    edges = {(e.caller, e.callee): e.calls for e in result.profile.edges}
    assert sum(n for (a, b), n in edges.items() if b == "SysTick_Handler") == ticks
    # Each frame (32 bytes, on the main stack) is inside the stack peak.
    m = result.memory
    assert all(e.stack == "msp" and e.sp_before - e.sp_after >= 32 for e in entries)
    assert m.stack_peak_bytes >= max(sim.initial_sp - e.sp_after for e in entries)
    assert m.psp_peak_bytes is None and m.process_stacks == []


def test_rtos_task_switches_keep_each_task_on_its_own_shadow_and_process_stack(kernels):
    board = "mps2-an386"
    sim, result, recorder, out = _run(kernels / board / "rtos2task.elf", board, "block")
    assert result.exit_code == 0, out
    f = _check_latency_entries(result, recorder)
    handled = [e for e, _ in recorder.events if e.kind in ("entry", "tail_chain")]
    for name, number in (("SVC_Handler", 11), ("PendSV_Handler", 14), ("SysTick_Handler", 15)):
        assert f[name].calls == sum(e.number == number for e in handled), name
    # Two tasks, each a root of its own started once: a switch never pops the other's frames
    # (were it to, each resumption would count as another call of `task`).
    assert f["task"].calls == 2
    assert f["spin_until_turn"].calls >= 8
    m = result.memory
    assert m.psp_peak_bytes is not None and len(m.process_stacks) == 2
    assert m.psp_peak_bytes == max(p.peak_bytes for p in m.process_stacks)
    on_psp = [e for e in handled if e.kind == "entry" and e.stack == "psp"]
    # The tasks hold FP values: extended frames (104 bytes, 108 realigned) on their stacks.
    assert on_psp and all(e.sp_before - e.sp_after in (104, 108) for e in on_psp)
    tops = sorted(p.top for p in m.process_stacks)
    deepest_is_a_frame = []
    for p in m.process_stacks:  # the frames pushed on a task's stack are in its peak
        mine = [e.sp_after for e in on_psp if e.sp_after < p.top
                and all(not e.sp_after < t < p.top for t in tops)]
        assert mine and p.peak_bytes >= p.top - min(mine)
        deepest_is_a_frame.append(p.peak_bytes == p.top - min(mine))
    assert any(deepest_is_a_frame)  # (no SP read in a task ever sees those frames)
    # The main stack: handlers and main only, never a PSP value.
    assert m.stack_peak_bytes < sim.initial_sp - max(tops)


def test_fp_frames_on_the_main_stack_are_in_its_peak(kernels):
    board = "mps2-an386"
    sim, result, recorder, out = _run(kernels / board / "fpu_ctx.elf", board, "block")
    entries = [e for e, _ in recorder.events if e.kind == "entry"]
    extended = [e for e in entries if e.sp_before - e.sp_after >= 104]
    assert extended and all(e.stack == "msp" for e in entries)
    assert result.memory.stack_peak_bytes >= max(sim.initial_sp - e.sp_after for e in extended)
    assert result.memory.psp_peak_bytes is None


@pytest.mark.parametrize("board,program", [
    ("mps2-an386", "systick_count"), ("mps2-an386", "rtos2task"), ("mps2-an386", "nested"),
    ("mps2-an386", "fpu_ctx"), ("nucleo-f446re", "rtos2task"),  # vector fetch from flash
    ("nucleo-g071rb", "rtos2task"), ("nucleo-f746zg", "wfi"),  # ARMv6-M; M7, sleeping
    ("mps2-an386", "fault_bus")])  # synchronous entries inside a block
def test_every_path_gives_the_same_profile_and_memory(kernels, board, program):
    elf = kernels / board / f"{program}.elf"
    _, base, recorder, out = _run(elf, board, "block", memory=False)
    _check_latency_entries(base, recorder)
    # Observing changes nothing the program does or its counts.
    plain = simulate(elf, board, **PATHS["block"])
    assert (plain.result.cycles, plain.result.instructions, plain.stdout) == (
        base.cycles, base.instructions, out)
    for path in ("batched", "native"):
        other = _run(elf, board, path, memory=False)[1]
        assert _profile_figures(other) == _profile_figures(base), path
    with_memory = [_run(elf, board, path, record=True)[1] for path in ("block", "native")]
    a, b = with_memory
    assert asdict(a.memory) == asdict(b.memory)
    assert _profile_figures(a) == _profile_figures(b)
    assert a.trace is not None and b.trace is not None
    for column in ("cycle", "address", "pc", "size", "kind"):
        assert (getattr(a.trace, column) == getattr(b.trace, column)).all(), column


@pytest.mark.parametrize("program", ["systick_count", "fpu_ctx"])
def test_recorded_accesses_show_each_frame_written_and_read_back(kernels, program):
    board = "mps2-an386"
    sim, result, recorder, _ = _run(kernels / board / f"{program}.elf", board, "block",
                                    record=True)
    trace = result.trace
    assert trace is not None
    accesses = set(zip(trace.cycle.tolist(), trace.address.tolist(), trace.kind.tolist(),
                       strict=True))
    for event, cycles in recorder.events:
        start = cycles - event.cycles
        frame = event.sp_after if event.kind == "entry" else event.sp_before
        kind = 1 if event.kind == "entry" else 0
        if event.kind == "tail_chain":
            continue
        words = 26 if abs(event.sp_after - event.sp_before) >= 104 else 8
        assert {(start, frame + 4 * k, kind) for k in range(words)} <= accesses
    if program == "fpu_ctx":  # FP frames among them
        assert any(abs(e.sp_after - e.sp_before) >= 104 for e, _ in recorder.events)


def test_thread_mode_switching_to_the_psp_with_msr_control(tmp_path):
    elf = asm.build(tmp_path, """
    push {r4, lr}          @ main stack: 8 bytes
    pop {r4, lr}
    ldr r0, =0x20002000
    msr psp, r0
    movs r0, #2
    msr control, r0        @ thread mode on the PSP from here
    isb
    push {r4-r7}
    sub sp, #64
    add sp, #64
    pop {r4-r7}
    movs r0, #0
    msr control, r0        @ back on the main stack
    isb
    push {r4-r5}
    pop {r4-r5}
    """ + asm.EXIT_OK)
    results = []
    for path in ("block", "native"):
        if path == "native" and native_lib.load_library() is None:
            continue
        run = simulate(elf, "nucleo-f446re", memory=True, **PATHS[path])
        assert run.result.exit_code == 0
        results.append(run.result.memory)
    m = results[0]
    assert m.stack_peak_bytes == 8  # what ran on the PSP is not main-stack use
    assert m.psp_peak_bytes == 16 + 64
    assert [(p.top, p.peak_bytes) for p in m.process_stacks] == [(0x20002000, 80)]
    assert all(asdict(r) == asdict(m) for r in results)


def test_the_run_summary_and_json_show_handlers_latency_and_both_stacks(kernels, tmp_path,
                                                                        capsys):
    elf = kernels / "mps2-an386" / "rtos2task.elf"
    out = tmp_path / "r.json"
    assert main(["run", str(elf), "--board", "mps2-an386", "--profile", "--top", "60",
                 "--json", str(out)]) == 0
    err = capsys.readouterr().err
    for name in ("PendSV_Handler", "[exception entry]", "[exception exit]", "[tail-chain]",
                 "stack peak (MSP)", "stack peak (PSP)", "process stack from 0x"):
        assert name in err, name
    memory = json.loads(out.read_text())["memory"]
    assert memory["psp_peak_bytes"] == max(p["peak_bytes"] for p in memory["process_stacks"])
    assert len(memory["process_stacks"]) == 2 and memory["stack_peak_bytes"] > 0

