"""Board-level interrupt sources for tests: IRQ n becomes pending at given cycles, once or
periodically (`--irq N@CYCLES[/PERIOD]`, `[[interrupts.timer]]` in the board file). Like an
edge-triggered peripheral line: the NVIC latches the pending bit whether or not the IRQ is
enabled."""

from __future__ import annotations

from collections.abc import Iterable

from mcusim.sim.devices.exc_numbers import FIRST_IRQ
from mcusim.sim.devices.nvic import ExceptionState


class ScheduledInterrupts:
    """A source of `ExceptionState`: (irq, first cycle, period or None) entries."""

    def __init__(self, state: ExceptionState, entries: Iterable[tuple[int, int, int | None]]):
        self.state = state
        self.entries = [[irq, first, period] for irq, first, period in entries]
        for irq, _, _ in self.entries:
            if not 0 <= irq < state.irqs:
                raise ValueError(f"IRQ {irq}: the NVIC has {state.irqs} IRQ lines")

    def next_event_cycle(self) -> int | None:
        times = [e[1] for e in self.entries if e[1] is not None]
        return min(times) if times else None

    def advance(self, now: int) -> None:
        for e in self.entries:
            irq, at, period = e
            if at is None or at > now:
                continue
            self.state.set_pending(FIRST_IRQ + irq)
            # Edges passed while nothing looked are one pending bit: move past `now`.
            e[1] = None if period is None else at + ((now - at) // period + 1) * period
        self.state.changed = True
