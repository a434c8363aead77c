"""Memory-mapped registers the simulator answers: the core's private peripherals (DWT, SysTick,
SCB, DEMCR) and the board's peripheral ranges with its console UART.

Counters read the run's own cycle count (`now`), taken at the reading instruction itself.
Interrupts are not modelled: SysTick counts, but never fires.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from mcusim.isa.core import CoreSpec
from mcusim.memory.board_spec import BoardSpec

PPB_BASE = 0xE0000000
PPB_SIZE = 0x00100000

DWT_CTRL = 0xE0001000
DWT_CYCCNT = 0xE0001004
SYST_CSR = 0xE000E010
SYST_RVR = 0xE000E014
SYST_CVR = 0xE000E018
SYST_CALIB = 0xE000E01C
CPUID = 0xE000ED00
VTOR = 0xE000ED08
AIRCR = 0xE000ED0C
CCR = 0xE000ED14
CPACR = 0xE000ED88
DEMCR = 0xE000EDFC

DEMCR_TRCENA = 1 << 24
CYCCNTENA = 1
AIRCR_VECTKEY = 0x05FA
AIRCR_SYSRESETREQ = 1 << 2
CSR_ENABLE = 1
CSR_CLKSOURCE = 1 << 2
CSR_COUNTFLAG = 1 << 16
SYSTICK_MASK = 0xFFFFFF
# STM32 and most vendors feed SysTick's external reference from HCLK/8.
SYSTICK_EXTERNAL_DIVIDER = 8

# Registers whose reads and writes depend on the exact instruction doing them: (first, last).
TIMED_REGISTERS = ((DWT_CTRL, DWT_CYCCNT + 3), (SYST_CSR, SYST_CALIB + 3), (DEMCR, DEMCR + 3))


class UnknownAccessLog:
    """Addresses outside the modelled registers that the program touched, each kept once."""

    def __init__(self) -> None:
        self.addresses: dict[int, str] = {}

    def note(self, addr: int, what: str) -> None:
        self.addresses.setdefault(addr, what)


def _sub_word(value: int, offset: int, size: int) -> int:
    shift = 8 * (offset & 3)
    return (value >> shift) & ((1 << (8 * size)) - 1)


class CorePeripherals:
    """The Private Peripheral Bus at 0xE0000000: DWT, SysTick, SCB, DEMCR; the rest stores."""

    def __init__(self, core: CoreSpec, board: BoardSpec, now: Callable[[], int],
                 request_reset: Callable[[], None], log: UnknownAccessLog):
        self.core = core
        self.now = now
        self.request_reset = request_reset
        self.log = log
        self.reset_values = board.reset_values
        self.stored: dict[int, int] = {
            VTOR: board.boot_address & 0xFFFFFF80,
            CCR: 0x200 if not core.is_v6m else 0x208,
            DWT_CTRL: 0x40000000 if core.has_dwt_cyccnt else 0x22000000,
        }
        # CYCCNT = cyccnt_base + (now - cyccnt_since) while enabled.
        self.cyccnt_value = 0
        self.cyccnt_since: int | None = None
        self.systick_csr = 0
        self.systick_rvr = 0
        self.systick_value = 0
        self.systick_since = 0
        self.systick_wrapped_at = 0

    # -- DWT ----------------------------------------------------------------------------------
    def _cyccnt_running(self) -> bool:
        return (self.core.has_dwt_cyccnt and self.stored.get(DEMCR, 0) & DEMCR_TRCENA != 0
                and self.stored[DWT_CTRL] & CYCCNTENA != 0)

    def _cyccnt(self) -> int:
        if self.cyccnt_since is None:
            return self.cyccnt_value
        return (self.cyccnt_value + self.now() - self.cyccnt_since) & 0xFFFFFFFF

    def _update_cyccnt_state(self, change: Callable[[], None]) -> None:
        value = self._cyccnt()
        change()
        self.cyccnt_value = value
        self.cyccnt_since = self.now() if self._cyccnt_running() else None

    # -- SysTick -----------------------------------------------------------------------------
    def _systick_ticks(self) -> int:
        cycles = self.now() - self.systick_since
        if not self.systick_csr & CSR_CLKSOURCE:
            return cycles // SYSTICK_EXTERNAL_DIVIDER
        return cycles

    def _systick_current(self) -> tuple[int, bool]:
        """(CVR, whether it reached zero since the last reload point)."""
        if not self.systick_csr & CSR_ENABLE:
            return self.systick_value, False
        ticks = self._systick_ticks()
        if ticks <= self.systick_value:
            return self.systick_value - ticks, ticks == self.systick_value and ticks > 0
        if self.systick_rvr == 0:
            return 0, True
        period = self.systick_rvr + 1
        return self.systick_rvr - (ticks - self.systick_value - 1) % period, True

    def _systick_restart(self, value: int) -> None:
        self.systick_value = value
        self.systick_since = self.now()

    # -- bus ---------------------------------------------------------------------------------
    def read(self, addr: int, size: int) -> int:
        word = addr & ~3
        return _sub_word(self._read_word(word), addr, size)

    def _read_word(self, addr: int) -> int:
        if addr == DWT_CYCCNT:
            return self._cyccnt() if self.core.has_dwt_cyccnt else 0
        if addr == SYST_CSR:
            value, wrapped = self._systick_current()
            csr = self.systick_csr | (CSR_COUNTFLAG if wrapped else 0)
            if wrapped:  # COUNTFLAG clears on read: restart the reference at the current value
                self._systick_restart(value)
            return csr
        if addr == SYST_RVR:
            return self.systick_rvr
        if addr == SYST_CVR:
            return self._systick_current()[0]
        if addr == SYST_CALIB:
            return 0x40000000  # NOREF = 0, SKEW = 1: no exact 10 ms calibration value
        if addr == CPUID:
            return self.core.cpuid
        if addr == AIRCR:
            return 0xFA050000 | (self.stored.get(AIRCR, 0) & 0x0700)
        if addr in self.stored:
            return self.stored[addr]
        if addr in self.reset_values:
            return self.reset_values[addr]
        self.log.note(addr, "read")
        return 0

    def write(self, addr: int, size: int, value: int) -> None:
        word = addr & ~3
        if size != 4:
            shift = 8 * (addr & 3)
            mask = ((1 << (8 * size)) - 1) << shift
            value = (self._read_word(word) & ~mask) | ((value << shift) & mask)
        self._write_word(word, value & 0xFFFFFFFF)

    def _write_word(self, addr: int, value: int) -> None:
        if addr == DWT_CYCCNT:
            self.cyccnt_value = value
            self.cyccnt_since = self.now() if self._cyccnt_running() else None
            return
        if addr in (DWT_CTRL, DEMCR):
            self._update_cyccnt_state(lambda: self.stored.__setitem__(addr, value))
            return
        if addr == SYST_CSR:
            current, _ = self._systick_current()
            was_enabled = self.systick_csr & CSR_ENABLE
            self.systick_csr = value & 0x7
            if not was_enabled and value & CSR_ENABLE and current == 0:
                current = self.systick_rvr  # enabling loads the counter from RVR
            self._systick_restart(current)
            return
        if addr == SYST_RVR:
            self.systick_rvr = value & SYSTICK_MASK
            return
        if addr == SYST_CVR:
            self._systick_restart(0)  # any write clears the counter and COUNTFLAG
            if self.systick_csr & CSR_ENABLE:
                self._systick_restart(self.systick_rvr)
            return
        if addr == AIRCR:
            if value >> 16 == AIRCR_VECTKEY and value & AIRCR_SYSRESETREQ:
                self.request_reset()
            self.stored[addr] = value & 0x0700
            return
        if addr == CPUID:
            return  # read-only
        if addr not in self.stored and addr not in self.reset_values:
            self.log.note(addr, "write")
        self.stored[addr] = value


class PeripheralBus:
    """The board's peripheral ranges: the console UART, reset values, everything else ignored."""

    def __init__(self, board: BoardSpec, console_out: BinaryIO, log: UnknownAccessLog):
        self.console = board.console
        self.console_out = console_out
        self.reset_values = board.reset_values
        self.log = log

    def read(self, addr: int, size: int) -> int:
        c = self.console
        if c is not None and addr & ~3 == c.base + c.status:
            return _sub_word(c.status_value, addr, size)
        value = self.reset_values.get(addr & ~3)
        if value is None:
            self.log.note(addr, "read")
            return 0
        return _sub_word(value, addr, size)

    def write(self, addr: int, size: int, value: int) -> None:
        c = self.console
        if c is not None and addr == c.base + c.data:
            self.console_out.write(bytes([value & 0xFF]))
            self.console_out.flush()
            return
        if c is None or not c.base <= addr < c.base + 0x400:
            self.log.note(addr, "write")
