"""The profiler: the observer that tracks calls, and the run's Profile built from the engine's
per-block counters and its call tracker."""

from __future__ import annotations

import struct
from collections.abc import Callable

from mcusim.sim.core.blocks import Block
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.exc_event import ExceptionEvent
from mcusim.sim.core.observer import Observer
from mcusim.sim.core.regions import pair_regions
from mcusim.sim.core.result_build import function_profiles
from mcusim.sim.observe import profiler
from mcusim.sim.observe.exc_calls import ExceptionCalls
from mcusim.sim.observe.lines import LineTable
from mcusim.sim.result import RunResult
from mcusim.traces.profile import HotBlock, LazyList, LineProfile, Profile, Slice


class Profiler(Observer):
    """Tracks calls block by block (sim/observe/profiler.py) and gives the run its Profile:
    functions with calls and inclusive costs, call edges, stacks, the timeline, hot blocks,
    and with `lines` cycles per source line."""

    def __init__(self, lines: bool = False):
        self.lines = lines
        # What makes the call tracker from the root function's name: an accounting path that
        # tracks calls itself supplies its own before the profiler attaches.
        self.make_tracker: Callable[[str], profiler.CallTracker] = profiler.CallTracker
        self.tracker: profiler.CallTracker | None = None
        self.exceptions: ExceptionCalls | None = None

    def attach(self, sim: Simulation) -> None:
        entry = sim.firmware.symbols.function_at(sim.reset_vector & ~1)
        tracker = self.tracker = self.make_tracker(entry.name if entry else "reset")
        function_of = sim.function_of

        def on_block(block: Block, prev: Block | None, cycles: int) -> None:
            tracker.enter(function_of(block), block.address,
                          prev.fallthrough if prev is not None and prev.call_end else None,
                          sim.cycles - cycles, sim.instructions - block.count)
            tracker.charge(cycles)

        sim.watch_blocks(on_block)
        sim.watch_charges(tracker.charge)
        self.exceptions = ExceptionCalls(tracker)
        sim.watch_exceptions(lambda event: self.on_exception(sim, event))

    def on_exception(self, sim: Simulation, event: ExceptionEvent) -> None:
        """An ExceptionEvent (sim/core/exceptions.py) on the shadow call stack: on every path,
        reading the run's counters first brings a pending batch up to date."""
        calls = self.exceptions
        assert calls is not None
        cycles, instructions = sim.cycles, sim.instructions
        if event.kind == "entry":
            prev = sim.current_block
            resumes_at = stacked_pc(sim, event.sp_after)
            # The interrupted block, not run, may be the first of a callee reached by a BL
            # (an asynchronous entry at a block start; not a fault inside `prev`).
            call = (prev.fallthrough if prev is not None and prev.call_end
                    and not prev.address <= resumes_at < prev.fallthrough else None)
            calls.entry(event.number, function_name(sim, event.handler), event.stack,
                        event.sp_before, call, cycles, instructions, event.cycles)
        elif event.kind == "tail_chain":
            calls.tail_chain(event.number, function_name(sim, event.handler), cycles,
                             instructions, event.cycles)
        else:
            resume = function_name(sim, stacked_pc(sim, event.sp_before))
            calls.exc_return(event.stack, event.sp_after, resume, cycles, instructions,
                             event.cycles)

    def finish(self, sim: Simulation, result: RunResult) -> None:
        tracker = self.tracker
        assert tracker is not None and self.exceptions is not None
        self.exceptions.finish(sim.cycles, sim.instructions)
        tracker.finish(sim.cycles, sim.instructions)
        result.functions = function_profiles(sim, tracker)
        result.profile = build_profile(sim, tracker, lines=self.lines, warnings=result.warnings)


def stacked_pc(sim: Simulation, frame: int) -> int:
    """The return address in the exception frame at `frame` (its seventh word)."""
    return struct.unpack("<I", sim.read_memory(frame + 24, 4))[0] & ~1


def function_name(sim: Simulation, address: int) -> str:
    """The function a block at `address` will be counted in (as Simulation.function_of)."""
    symbols = sim.firmware.symbols
    sym = symbols.function_at(address & ~1)
    return sym.name if sym is not None else symbols.unknown_name(address & ~1)


def build_profile(sim: Simulation, tracker: profiler.CallTracker | None, *, lines: bool = False,
                  hot_blocks: int = 10, warnings: list[str] | None = None) -> Profile:
    """The Profile; with `lines`, why damaged debug information was not used goes to
    `warnings`."""
    profile = Profile(clock_hz=sim.board.clock_hz, total_cycles=sim.cycles,
                      total_instructions=sim.instructions,
                      functions=function_profiles(sim, tracker))
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
        table = LineTable(sim.firmware.path)
        if table.problem and warnings is not None:
            warnings.append(table.problem)
        profile.lines = _lines(sim, table)
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
        name = sim.function_of(b)
        out.append(HotBlock(b.address, name, b.executions, b.total_cycles,
                            b.total_cycles / b.executions, text))
    return out


def _lines(sim: Simulation, table: LineTable) -> list[LineProfile]:
    """Cycles per source line: each instruction's static cycles times the block's executions;
    a block's per-execution extras (taken branches, stalls, divides) go to its last line."""
    if not table:
        return []
    acc: dict[tuple[str, int, str], list[int]] = {}
    for b in sim.blocks.values():
        if not b.executions:
            continue
        name = sim.function_of(b)
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
