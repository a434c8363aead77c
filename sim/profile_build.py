"""Building the run's Profile from the engine's per-block counters and its call tracker."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcusim.sim.lines import LineTable
from mcusim.sim.regions import pair_regions
from mcusim.traces.profile import (
    FunctionProfile,
    HotBlock,
    LazyList,
    LineProfile,
    Profile,
    Slice,
)

if TYPE_CHECKING:
    from mcusim.sim.engine import Simulation


def function_profiles(sim: Simulation) -> list[FunctionProfile]:
    """Self cycles and instructions per function from the blocks that ran (exact: they add up
    to the run's totals), with calls and inclusive figures when calls were tracked."""
    totals: dict[str, list[int]] = {}
    for block in sim.blocks.values():
        name = block.function or sim.firmware.symbols.unknown_name(block.address)
        t = totals.setdefault(name, [0, 0])
        t[0] += block.total_cycles
        t[1] += block.total_instructions
    tracker = sim.tracker
    out = []
    for name, (cycles, insns) in totals.items():
        if not cycles and not insns:
            continue
        sym = sim.firmware.symbols.get(name)
        calls = inclusive = inclusive_insns = None
        if tracker is not None:
            calls = tracker.calls.get(name, 0)
            inc = tracker.inclusive.get(name)
            inclusive, inclusive_insns = inc if inc else (cycles, insns)
        out.append(FunctionProfile(name, calls, cycles, inclusive, insns, inclusive_insns,
                                   sym.address if sym else None))
    out.sort(key=lambda f: (-f.self_cycles, f.name))
    return out


def build_profile(sim: Simulation, *, lines: bool = False, hot_blocks: int = 10) -> Profile:
    tracker = sim.tracker
    profile = Profile(clock_hz=sim.board.clock_hz, total_cycles=sim.cycles,
                      total_instructions=sim.instructions, functions=function_profiles(sim))
    if tracker is not None:
        profile.edges = tracker.edge_list()
        profile.stacks = {k: v for k, v in tracker.stacks.items() if v}
        if tracker.dropped_slices:
            profile.sampled = True
            profile.sampling_note = (
                f"timeline capped at the {tracker.max_slices:,} longest function activations; "
                f"{tracker.dropped_slices:,} shorter ones dropped")
    regions = _region_slices(sim)
    # Built when first used, from what the tracker keeps of the timeline (not the tracker,
    # which holds the whole simulation).
    function_slices = tracker.slice_maker() if tracker is not None else list
    profile.slices = LazyList(lambda: function_slices() + regions)
    profile.hot_blocks = _hot_blocks(sim, hot_blocks)
    if lines:
        profile.lines = _lines(sim)
        table = LineTable(sim.firmware.path)
        for f in profile.functions:
            where = table.lookup(f.address) if f.address is not None else None
            if where:
                f.file, f.line = where
    return profile


def _region_slices(sim: Simulation) -> list[Slice]:
    pairs, _ = pair_regions(sim.region_events)
    return [Slice(b.name, "region", b.cycles, e.cycles, depth) for b, e, depth in pairs]


def _hot_blocks(sim: Simulation, n: int) -> list[HotBlock]:
    ranked = sorted((b for b in sim.blocks.values() if b.executions),
                    key=lambda b: (-b.total_cycles, b.address))[:n]
    out = []
    for b in ranked:
        marks = [b.cycles_before(i.address) for i in b.insns] + [b.cycles]
        text = [f"{i.address:#010x}: {i.text:<36} ({marks[k + 1] - marks[k]})"
                for k, i in enumerate(b.insns)]
        name = b.function or sim.firmware.symbols.unknown_name(b.address)
        out.append(HotBlock(b.address, name, b.executions, b.total_cycles,
                            b.total_cycles / b.executions, text))
    return out


def _lines(sim: Simulation) -> list[LineProfile]:
    """Cycles per source line: each instruction's static cycles times the block's executions;
    a block's per-execution extras (taken branches, stalls, divides) go to its last line."""
    table = LineTable(sim.firmware.path)
    if table.problem:
        sim.notes.append(table.problem)
    if not table:
        return []
    acc: dict[tuple[str, int, str], list[int]] = {}
    for b in sim.blocks.values():
        if not b.executions:
            continue
        name = b.function or sim.firmware.symbols.unknown_name(b.address)
        marks = [b.cycles_before(i.address) for i in b.insns] + [b.cycles]
        for k, insn in enumerate(b.insns):
            where = table.lookup(insn.address) or ("??", 0)
            row = acc.setdefault((where[0], where[1], name), [0, 0])
            row[0] += (marks[k + 1] - marks[k]) * b.executions
            row[1] += b.executions
            if k == b.count - 1:
                row[0] += b.extra_cycles - b.lost_cycles
                row[1] -= b.lost_count
    rows = [LineProfile(f, ln, fn, c, i) for (f, ln, fn), (c, i) in acc.items()]
    rows.sort(key=lambda r: (-r.cycles, r.file, r.line))
    return rows
