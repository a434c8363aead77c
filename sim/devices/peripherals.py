"""Memory-mapped registers the simulator answers: the core's private peripherals (DWT, SysTick,
SCB, DEMCR) and the board's peripheral ranges with its console UART.

Counters read the run's own cycle count (`now`), taken at the reading instruction itself.
The NVIC and SCB exception registers are `ExceptionState`'s (sim/devices/nvic.py), SysTick is
sim/devices/systick.py (an interrupt source of the exception state).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import BinaryIO

from mcusim.isa.core import CoreSpec
from mcusim.memory.board_spec import BoardSpec
from mcusim.sim.devices.nvic import ExceptionState, NvicConfig
from mcusim.sim.devices.systick import (
    CSR_COUNTFLAG,
    SYST_CALIB,
    SYST_CSR,
    SysTick,
)

__all__ = ["CSR_COUNTFLAG", "PPB_BASE", "PPB_SIZE", "SYST_CSR", "TIMED_REGISTERS",
           "CorePeripherals", "PeripheralBus", "UnknownAccessLog"]

PPB_BASE = 0xE0000000
PPB_SIZE = 0x00100000

DWT_CTRL = 0xE0001000
DWT_CYCCNT = 0xE0001004
CPUID = 0xE000ED00
CPACR = 0xE000ED88
FPCCR = 0xE000EF34
# FPCCR at reset: ASPEN and LSPEN set, automatic lazy FP state preservation (ARMv7-M B3.2.22).
FPCCR_RESET = 0xC0000000
DEMCR = 0xE000EDFC

DEMCR_TRCENA = 1 << 24
CYCCNTENA = 1

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
    """The Private Peripheral Bus at 0xE0000000: DWT, SysTick, NVIC, SCB, DEMCR; the rest
    stores what is written and reads it back."""

    def __init__(self, core: CoreSpec, board: BoardSpec, now: Callable[[], int],
                 request_reset: Callable[[], None], log: UnknownAccessLog):
        self.core = core
        self.now = now
        self.request_reset = request_reset
        self.log = log
        self.reset_values = board.reset_values
        self.stored: dict[int, int] = {
            DWT_CTRL: 0x40000000 if core.has_dwt_cyccnt else 0x22000000,
        }
        if board.fpu:
            self.stored[FPCCR] = FPCCR_RESET
            # CPACR resets to 0 (no coprocessor access); start-up code read-modify-writes it
            # to enable the FPU, and that read is modelled, not an unknown register (-v).
            self.stored[CPACR] = 0
        self.exceptions = ExceptionState(NvicConfig.for_board(board), request_reset)
        # SysTick reads `self.now` when it runs: the GDB stub swaps it to peek at a stop.
        self.systick = SysTick(lambda: self.now(), self.exceptions)
        self.exceptions.add_source(self.systick)
        # CYCCNT = cyccnt_base + (now - cyccnt_since) while enabled.
        self.cyccnt_value = 0
        self.cyccnt_since: int | None = None

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

    @property
    def fpccr(self) -> int:
        """FPCCR as software left it (0 without an FPU): ASPEN bit 31, LSPEN bit 30."""
        return self.stored.get(FPCCR, 0)

    # -- SysTick (the GDB stub peeks at these) -----------------------------------------------
    @property
    def systick_csr(self) -> int:
        return self.systick.csr

    def _systick_current(self) -> tuple[int, bool]:
        return self.systick.current()

    # -- bus ---------------------------------------------------------------------------------
    def read(self, addr: int, size: int) -> int:
        if ExceptionState.handles(addr):
            return self.exceptions.read(addr, size)
        return _sub_word(self._read_word(addr & ~3), addr, size)

    def _read_word(self, addr: int) -> int:
        if addr == DWT_CYCCNT:
            return self._cyccnt() if self.core.has_dwt_cyccnt else 0
        if SYST_CSR <= addr <= SYST_CALIB:
            return self.systick.read_word(addr)
        if ExceptionState.handles(addr):
            return self.exceptions.read(addr, 4)
        if addr == CPUID:
            return self.core.cpuid
        if addr in self.stored:
            return self.stored[addr]
        if addr in self.reset_values:
            return self.reset_values[addr]
        self.log.note(addr, "read")
        return 0

    def write(self, addr: int, size: int, value: int) -> None:
        if ExceptionState.handles(addr):
            self.exceptions.write(addr, size, value)  # W1S/W1C and byte registers: its rules
            return
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
        if SYST_CSR <= addr <= SYST_CALIB:
            self.systick.write_word(addr, value)
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
