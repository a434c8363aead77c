"""The part of a Simulation that watches a run: it registers its own hooks when it attaches
(`Simulation.watch_blocks`, `watch_charges`, `watch_markers`, `instrument_blocks`, or Unicorn
hooks of its own) and adds its findings to the RunResult at the end. An observer never changes
what the firmware does or its cycle count."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.result import RunResult


class Observer:
    def attach(self, sim: Simulation) -> None:
        """Register what this observer needs to see; called once, before the run."""

    def finish(self, sim: Simulation, result: RunResult) -> None:
        """Add this observer's part to the result; called once, after the run, in the order
        the observers were given."""
