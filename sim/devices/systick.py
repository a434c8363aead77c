"""SysTick (ARMv7-M ARM B3.3, ARMv6-M ARM B3.3): a 24-bit down-counter read at the exact
reading instruction (`now`), and an interrupt source that pends SysTick (exception 15) at the
cycle the counter goes from 1 to 0 when CSR.ENABLE and CSR.TICKINT are set.

The counter is kept as (value, since): `value` at cycle `since`, counting down one per tick
(processor clock, or HCLK/8 with CLKSOURCE = 0) and reloading RVR on the tick after zero.
"""

from __future__ import annotations

from collections.abc import Callable

from mcusim.sim.devices.exc_numbers import SYSTICK
from mcusim.sim.devices.nvic import ExceptionState

SYST_CSR = 0xE000E010
SYST_RVR = 0xE000E014
SYST_CVR = 0xE000E018
SYST_CALIB = 0xE000E01C
CSR_ENABLE = 1
CSR_TICKINT = 1 << 1
CSR_CLKSOURCE = 1 << 2
CSR_COUNTFLAG = 1 << 16
SYSTICK_MASK = 0xFFFFFF
# STM32 and most vendors feed SysTick's external reference from HCLK/8.
SYSTICK_EXTERNAL_DIVIDER = 8


class SysTick:
    """The SysTick registers and their interrupt (a source of `ExceptionState`)."""

    def __init__(self, now: Callable[[], int], state: ExceptionState):
        self.now = now
        self.state = state
        self.csr = 0
        self.rvr = 0
        self.value = 0
        self.since = 0
        self.next_wrap: int | None = None  # the cycle of the next 1 -> 0 with TICKINT

    # -- counter ------------------------------------------------------------------------------
    def _divider(self) -> int:
        return 1 if self.csr & CSR_CLKSOURCE else SYSTICK_EXTERNAL_DIVIDER

    def _ticks(self) -> int:
        return (self.now() - self.since) // self._divider()

    def current(self) -> tuple[int, bool]:
        """(CVR, whether it reached zero since the last reload point)."""
        if not self.csr & CSR_ENABLE:
            return self.value, False
        ticks = self._ticks()
        if ticks <= self.value:
            return self.value - ticks, ticks == self.value and ticks > 0
        if self.rvr == 0:
            return 0, True
        period = self.rvr + 1
        return self.rvr - (ticks - self.value - 1) % period, True

    def _restart(self, value: int) -> None:
        self.value = value
        self.since = self.now()
        self._reschedule()

    # -- interrupt ----------------------------------------------------------------------------
    def _wrap_after(self, after: int) -> int | None:
        """The first cycle > `after` at which the counter goes from 1 to 0 (None without
        ENABLE and TICKINT, or when it stays at 0: RVR = 0)."""
        if self.csr & (CSR_ENABLE | CSR_TICKINT) != CSR_ENABLE | CSR_TICKINT:
            return None
        d, period = self._divider(), self.rvr + 1
        first = max(1, (after - self.since) // d + 1)  # ticks k with since + k*d > after
        if self.rvr == 0:
            return self.since + self.value * d if self.value >= first else None
        base = self.value if self.value > 0 else period  # tick counts of zeros: base + j*period
        k = base if first <= base else base + -(-(first - base) // period) * period
        return self.since + k * d

    def _reschedule(self) -> None:
        now = self.now()
        overdue = self.next_wrap is not None and self.next_wrap <= now
        if not overdue:  # a wrap before `now` not yet seen by advance() still pends SysTick
            self.next_wrap = self._wrap_after(now)
        self.state.changed = True

    def next_event_cycle(self) -> int | None:
        return self.next_wrap

    def advance(self, now: int) -> None:
        if self.next_wrap is not None and self.next_wrap <= now:
            self.state.set_pending(SYSTICK)
            self.next_wrap = self._wrap_after(now)
            self.state.changed = True

    # -- registers ----------------------------------------------------------------------------
    def read_word(self, addr: int) -> int:
        if addr == SYST_CSR:
            value, wrapped = self.current()
            csr = self.csr | (CSR_COUNTFLAG if wrapped else 0)
            if wrapped:  # COUNTFLAG clears on read: restart the reference at the current value
                self._restart(value)
            return csr
        if addr == SYST_RVR:
            return self.rvr
        if addr == SYST_CVR:
            return self.current()[0]
        return 0x40000000  # CALIB: NOREF = 0, SKEW = 1: no exact 10 ms calibration value

    def write_word(self, addr: int, value: int) -> None:
        if addr == SYST_CSR:
            current, _ = self.current()
            was_enabled = self.csr & CSR_ENABLE
            self.csr = value & 0x7
            if not was_enabled and value & CSR_ENABLE and current == 0:
                current = self.rvr  # enabling loads the counter from RVR
            self._restart(current)
        elif addr == SYST_RVR:
            self.rvr = value & SYSTICK_MASK
            self._reschedule()  # the reload value is part of the wrap schedule
        elif addr == SYST_CVR:
            self._restart(0)  # any write clears the counter and COUNTFLAG
            if self.csr & CSR_ENABLE:
                self._restart(self.rvr)
