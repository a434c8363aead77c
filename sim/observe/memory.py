"""The memory observer: stack, heap and peak RAM during the run (sim/observe/memory_tracker.py)
and the memory section of its result (sim/observe/memory_report.py)."""

from __future__ import annotations

from collections.abc import Callable

from mcusim.sim.core.blocks import Block
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.observer import Observer
from mcusim.sim.core.options import MemoryOptions
from mcusim.sim.observe.exc_memory import ExceptionStacks
from mcusim.sim.observe.memory_report import (
    access_trace,
    live_curve,
    memory_counters,
    memory_report,
    over_budget,
)
from mcusim.sim.observe.memory_tracker import MemoryTracker
from mcusim.sim.result import RunResult


class MemoryObserver(Observer):
    def __init__(self, options: MemoryOptions):
        self.options = options
        # An accounting path that tracks the stack and the accesses itself adapts the tracker
        # (before it hooks anything) by setting this.
        self.adapt_tracker: Callable[[MemoryTracker], MemoryTracker] = lambda tracker: tracker
        self.tracker: MemoryTracker | None = None
        self.exceptions: ExceptionStacks | None = None

    def attach(self, sim: Simulation) -> None:
        o = self.options
        regions = list(o.record_regions) if o.record_regions else None
        tracker = self.tracker = self.adapt_tracker(MemoryTracker(
            sim, sim.footprint.static_ram_bytes, record=o.record_accesses, window=o.window,
            max_accesses=o.max_accesses, regions=regions))
        if o.max_stack is not None:
            tracker.set_stack_budget(o.max_stack)
        sim.memory_tracker = tracker
        uc, on_block = sim.uc, tracker.on_block

        def on_counted(block: Block, prev: Block | None, cycles: int) -> None:
            on_block(uc, block)

        sim.watch_blocks(on_counted)
        sim.watch_markers(tracker.on_marker)
        sim.instrument_blocks(tracker.code_hooks)
        tracker.attach(uc)
        self.exceptions = ExceptionStacks(tracker, sim)
        sim.watch_exceptions(self.exceptions.on_event)
        sim.instrument_blocks(self.exceptions.code_hooks)

    def finish(self, sim: Simulation, result: RunResult) -> None:
        tracker = self.tracker
        assert tracker is not None
        curve = live_curve(tracker) if self.options.live_analysis else None
        report = result.memory = memory_report(sim, tracker, curve, self.exceptions)
        report.over_budget = over_budget(report, self.options.max_stack, self.options.max_ram)
        if report.over_budget and result.stop != "memory_budget":
            # The program ran to its end but passed a budget (max_ram, or max_stack measured
            # at the end): the result says so as a max_stack stop does, its exit code kept.
            result.stop = "memory_budget"
            result.warnings.append(report.over_budget)
        if result.profile is not None:
            result.profile.counters = memory_counters(tracker, curve)
        if tracker.overflow:
            result.warnings.append(tracker.overflow)
        if tracker.record:
            result.trace = access_trace(sim, tracker)
