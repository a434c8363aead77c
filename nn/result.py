"""The one result object of a model run (`NNResult`), and its JSON view (`mcusim.nn/1`)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from mcusim.nn.codegen import INFERENCE_REGION
from mcusim.nn.compare import MATCH
from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Step
from mcusim.nn.sim_api import RunResult

if TYPE_CHECKING:
    from mcusim.nn.build import Build
    from mcusim.nn.run import Prepared

SCHEMA = "mcusim.nn/1"


@dataclass
class LayerResult:
    index: int  # step index
    op_index: int  # operator index in the model
    op: str
    name: str  # the step's region name
    kernel: str
    output_shape: list[int]
    macs: int
    cycles: int
    instructions: int
    share: float  # of the inference's cycles
    cycles_per_mac: float | None
    seconds: float  # simulated, at the board clock
    arena_live_bytes: int  # planned bytes of the arena live during the step
    live_bytes: int | None  # measured live-bytes peak during the step (None: not analysed)
    stack_peak_bytes: int | None


@dataclass
class NNResult:
    model: str
    board: str
    core: str
    clock_hz: int
    schedule: dict[str, Any]  # Schedule.to_json_dict(): kind and steps
    steps: list[LayerResult]  # one per schedule step (region)
    layers: list[LayerResult]  # one per operator: its steps added up
    cycles: int  # the whole inference (region around model_invoke)
    macs: int
    arena_bytes: int  # planned
    arena_bound_bytes: int  # the most bytes any step of this schedule needs at once
    peak_ram_bytes: int  # measured: static + stack + heap at their worst
    static_ram_bytes: int
    stack_peak_bytes: int
    heap_peak_bytes: int
    live_peak_bytes: int | None  # measured live-bytes peak of the run (None: not analysed)
    flash_bytes: int  # code + constants (weights, biases, parameters)
    weight_bytes: int
    reference: str  # "match" or the first mismatch
    kernel_code: str  # where the kernels' hot loops run: "ram" or "flash"
    peak_bound_bytes: int | None  # the least any channel split can need live at once (Pex)
    program_cycles: int  # everything the firmware ran, start-up and input reading included
    cached_build: bool
    elf: str
    build_key: str  # the build cache key: a hash of everything that went into the ELF
    outputs: list[np.ndarray] = field(default_factory=list, repr=False)
    run: RunResult | None = field(default=None, repr=False)

    @property
    def seconds(self) -> float:
        return self.cycles / self.clock_hz

    @property
    def matches(self) -> bool:
        return self.reference == MATCH

    def to_json_dict(self) -> dict[str, Any]:
        d = asdict(self)
        # Only what the inputs determine: the same model, board and options give the same
        # file (where the ELF lies and whether it came from the cache are not results).
        for key in ("outputs", "run", "cached_build", "elf"):
            d.pop(key)
        d["seconds"] = self.seconds
        d["outputs"] = [o.reshape(-1).tolist() for o in self.outputs]
        return {"schema": SCHEMA, **d}

    def to_json_text(self) -> str:
        return json.dumps(self.to_json_dict(), indent=1) + "\n"


def step_macs(graph: Graph, step: Step) -> int:
    """MACs of a step: the operator's, scaled by the share of channels the step covers."""
    op = graph.operators[step.op]
    macs = graph.macs(op)
    if step.out_channels is not None:
        c = graph.output_tensor(op).shape[-1]
        macs = macs * (step.out_channels[1] - step.out_channels[0]) // c
    if step.in_channels is not None and op.type in ("CONV_2D", "FULLY_CONNECTED"):
        c = graph.tensors[op.inputs[0]].shape[-1]
        macs = macs * (step.in_channels[1] - step.in_channels[0]) // c
    return macs


def per_operator(steps: list[LayerResult], inference: int) -> list[LayerResult]:
    """Steps of the same operator added up (the identity for a layer-by-layer schedule)."""
    by_op: dict[int, list[LayerResult]] = {}
    for s in steps:
        by_op.setdefault(s.op_index, []).append(s)
    out = []
    for n, (op, parts) in enumerate(by_op.items()):
        if len(parts) == 1:
            out.append(replace(parts[0], index=n))
            continue
        cycles, macs = sum(s.cycles for s in parts), sum(s.macs for s in parts)
        lives = [s.live_bytes for s in parts if s.live_bytes is not None]
        stacks = [s.stack_peak_bytes for s in parts if s.stack_peak_bytes is not None]
        out.append(LayerResult(
            index=n, op_index=op, op=parts[0].op, name=f"L{op:02d}_{parts[0].op}",
            kernel=parts[0].kernel, output_shape=parts[0].output_shape, macs=macs,
            cycles=cycles, instructions=sum(s.instructions for s in parts),
            share=cycles / inference if inference else 0.0,
            cycles_per_mac=cycles / macs if macs else None,
            seconds=sum(s.seconds for s in parts),
            arena_live_bytes=max(s.arena_live_bytes for s in parts),
            live_bytes=max(lives) if lives else None,
            stack_peak_bytes=max(stacks) if stacks else None))
    return out


def _peak_bound(graph: Graph) -> int | None:
    """Partial execution's bound (issue 11), for every schedule's report."""
    try:
        from mcusim.nn.pex.search import peak_bound_bytes
    except ImportError:
        return None
    return peak_bound_bytes(graph)


def assemble(p: Prepared, b: Build, run: RunResult, outputs: dict[int, np.ndarray],
             reference: str) -> NNResult:
    g = p.graph
    regions = {r.name: r for r in run.regions}
    memory = run.memory
    region_memory = {r.name: r for r in memory.regions} if memory else {}
    inference = regions[INFERENCE_REGION].cycles if INFERENCE_REGION in regions else run.cycles
    steps = []
    for i, step in enumerate(p.schedule):
        op = g.operators[step.op]
        r = regions.get(step.name)
        cycles = r.cycles if r else 0
        macs = step_macs(g, step)
        mem = region_memory.get(step.name)
        steps.append(LayerResult(
            index=i, op_index=step.op, op=op.type, name=step.name, kernel=step.kernel,
            output_shape=list(g.output_tensor(op).shape), macs=macs, cycles=cycles,
            instructions=r.instructions if r else 0,
            share=cycles / inference if inference else 0.0,
            cycles_per_mac=cycles / macs if macs else None, seconds=cycles / p.board.clock_hz,
            arena_live_bytes=p.plan.live_bytes[i],
            live_bytes=mem.live_peak_bytes if mem else None,
            stack_peak_bytes=mem.stack_peak_bytes if mem else None))
    return NNResult(
        model=g.name, board=p.board.name, core=p.board.core.name, clock_hz=p.board.clock_hz,
        schedule=p.schedule.to_json_dict(), steps=steps, layers=per_operator(steps, inference),
        cycles=inference, macs=sum(s.macs for s in steps),
        arena_bytes=p.plan.arena_bytes, arena_bound_bytes=p.plan.bound_bytes,
        peak_ram_bytes=memory.peak_ram_bytes if memory else 0,
        static_ram_bytes=memory.static_ram_bytes if memory else 0,
        stack_peak_bytes=memory.stack_peak_bytes if memory else 0,
        heap_peak_bytes=memory.heap_peak_bytes if memory else 0,
        live_peak_bytes=memory.live_peak_bytes if memory else None,
        flash_bytes=memory.flash_bytes if memory else 0, weight_bytes=g.weight_bytes(),
        reference=reference, kernel_code="ram" if p.code_in_ram else "flash",
        peak_bound_bytes=_peak_bound(g),
        program_cycles=run.cycles, cached_build=b.cached, elf=str(b.elf),
        build_key=b.key,
        outputs=[outputs[t] for t in g.outputs], run=run)
