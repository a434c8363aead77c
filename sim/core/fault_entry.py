"""Faults enter their handlers (issue 13 item 3). A mixin of `Simulation`.

A fault found by a hook (sim/core/stops.py, the divide and alignment checks) comes here as a
`Fault` (sim/core/fault_status.py). Its status bits go to the SCB (ExceptionState.record_fault);
then, as ARMv7-M ARM B1.5.15-B1.5.17 (ARMv6-M: B1.5.14) say:
- a MemManage, BusFault or UsageFault whose handler is disabled (SHCSR) or cannot preempt the
  execution priority escalates to HardFault with HFSR.FORCED;
- a fault HardFault cannot preempt (in HardFault or NMI, or with FAULTMASK set) is a lockup;
- otherwise the handler is entered through the engine's exception entry.
The run stops with today's fault report plus the decoded status registers instead when the
option says `--fault-handlers=report`, when the table has no such vector (a table cut short, as
tests/asm.py builds), when the handler is a bare infinite loop (`b .`, the usual default
handler), and at a lockup. The exit codes stay those of today's report.

Unicorn ends emu_start on a bad memory access whatever its hook does (a hook that moves the PC
and returns True gets UC_ERR_MAP), so such a fault is entered between two emu_starts
(`_enter_pending_fault`): the run restarts at the handler with the IT bits of xPSR clear, so no
stale IT-block state reaches the handler's first block (sim/core/code_map.py, issue 14).
"""

from __future__ import annotations

import functools
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import unicorn.arm_const as arm
from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile
from unicorn import UcError

from mcusim.sim.core import fault_status
from mcusim.sim.core.access import locate
from mcusim.sim.core.fault_status import FETCHES, HANDLER_SYMBOLS, NAMES, Fault
from mcusim.sim.core.fault_traps import FaultTraps
from mcusim.sim.core.translation import UC_REG
from mcusim.sim.devices.exc_numbers import CFSR_INVSTATE, CFSR_UNDEFINSTR, HARDFAULT

if TYPE_CHECKING:
    from mcusim.sim.core.blocks import Block
    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.devices.nvic import ExceptionState

SELF_BRANCHES = (b"\xfe\xe7", b"\xff\xf7\xfe\xbf")  # b . (16-bit), b.w . (32-bit)
XPSR_IT = 0x0600FC00  # ITSTATE: xPSR bits 26:25 and 15:10
REPORT, ENTER = "report", "enter"
FAULT_HANDLER_MODES = (ENTER, REPORT)


@functools.lru_cache(maxsize=32)
def _sections(path: str, _mtime: int) -> tuple[tuple[int, int], ...]:
    """(address, size) of the ELF's allocated sections."""
    try:
        with open(path, "rb") as f:
            return tuple((s["sh_addr"], s["sh_size"]) for s in ELFFile(f).iter_sections()
                         if s["sh_flags"] & 2 and s["sh_size"])  # SHF_ALLOC
    except (OSError, ELFError, ValueError):
        return ()


def vector_address(sim: Simulation, number: int) -> int | None:
    """The handler of exception `number` (Thumb bit clear), or None when the vector table has
    no such entry: past the end of the ELF section that holds the table (when the table is the
    ELF's), not a Thumb address, or not in the board's memory."""
    state = sim.core_peripherals.exceptions
    table = state.vector_table()
    entry = table + 4 * number
    path = Path(sim.firmware.path)
    try:
        sections = _sections(str(path), path.stat().st_mtime_ns)
    except OSError:
        sections = ()
    for addr in _addresses_of(sim, table):
        section = next(((lo, size) for lo, size in sections if lo <= addr < lo + size), None)
        if section is not None:
            lo, size = section
            if addr + 4 * number + 4 > lo + size:
                return None
            break
    try:
        word = int.from_bytes(sim.uc.mem_read(entry, 4), "little")
    except UcError:
        return None
    handler = word & ~1
    if not word & 1 or sim.board.region_at(handler, 2) is None:
        return None
    return handler


def _addresses_of(sim: Simulation, addr: int) -> list[int]:
    """`addr` and the same byte at the other windows of its region (a table read at 0 on an
    STM32 is the flash section at 0x08000000)."""
    region = sim.board.region_at(addr, 4)
    if region is None:
        return [addr]
    windows = list(region.windows())
    offset = next(addr - lo for lo, hi in windows if lo <= addr < hi)
    return [lo + offset for lo, _ in windows]


class FaultEntry(FaultTraps):
    """Takes a `Fault` the way the core would; the state it uses is Simulation's."""

    _pending_fault: Fault | None = None  # to enter after emu_start returns

    def _fault_state(self: Simulation) -> ExceptionState | None:
        return getattr(self.core_peripherals, "exceptions", None)

    def _take_fault(self: Simulation, fault: Fault, *, deferred: bool = False) -> bool:
        """Handle `fault` found at its return address: True if its handler is entered (now, or
        with `deferred` after emu_start returns, see `_enter_pending_fault`), False if the run
        stops (the stop is then decided here)."""
        state = self._fault_state()
        if self.options.fault_handlers == REPORT or state is None:
            self._halt(fault.kind, fault.message, fault.return_address, fault.bfar)
            return False
        fault = self._escalate(state, fault)
        state.record_fault(fault.cfsr, fault.hfsr, fault.dfsr, fault.mmfar, fault.bfar)
        status = self._status_text(state)
        if fault.exception == HARDFAULT and not state.can_preempt(HARDFAULT, *self._masks()):
            current = state.current_exception()
            where = NAMES.get(current, f"exception {current}") if current else "FAULTMASK set"
            self._stop_for(fault, f"lockup: the fault happened at priority -1 or higher "
                           f"({where}), so HardFault cannot be taken and the core locks up; "
                           f"{status}")
            return False
        handler = vector_address(self, fault.exception)
        name = HANDLER_SYMBOLS.get(fault.exception, NAMES.get(fault.exception, "handler"))
        if handler is None:
            self._stop_for(fault, f"the vector table has no {name} vector; {status}")
            return False
        if self._is_bare_loop(handler):
            # Start-up code makes every handler an alias of one loop (Default_Handler): the
            # vector's own name when it is one of them, not whichever alias sorts first.
            own = self.firmware.symbols.get(name)
            where = (name if own is not None and own.address & ~1 == handler & ~1
                     else self.firmware.symbols.describe(handler))
            self._stop_for(fault, f"{status}; the {NAMES[fault.exception]} handler at {where} "
                           f"({handler:#010x}) "
                           "is an infinite loop (b .), so the run ends here")
            return False
        if deferred:
            self._pending_fault = fault
            return True
        return self._enter_fault_handler(fault)

    def _escalate(self: Simulation, state: ExceptionState, fault: Fault) -> Fault:
        if state.v6m:
            return fault.on_v6m()
        if fault.exception != HARDFAULT and not (
                state.is_enabled(fault.exception)
                and state.can_preempt(fault.exception, *self._masks())):
            return fault.escalated()
        return fault

    def _masks(self: Simulation) -> tuple[int, int, int]:
        uc = self.uc
        if self.board.core.is_v6m:
            return uc.reg_read(arm.UC_ARM_REG_PRIMASK), 0, 0
        return (uc.reg_read(arm.UC_ARM_REG_PRIMASK), uc.reg_read(arm.UC_ARM_REG_BASEPRI),
                uc.reg_read(arm.UC_ARM_REG_FAULTMASK))

    def _status_text(self: Simulation, state: ExceptionState) -> str:
        if state.v6m:
            return "HardFault (ARMv6-M records no fault status)"
        return "fault status " + fault_status.decode(state.cfsr, state.hfsr, state.mmfar,
                                                     state.bfar)

    def _stop_for(self: Simulation, fault: Fault, detail: str) -> None:
        detail = detail[:1].upper() + detail[1:]
        self._halt(fault.kind, f"{fault.message}. {detail}", fault.return_address, fault.bfar)

    def _is_bare_loop(self: Simulation, handler: int) -> bool:
        try:
            code = bytes(self.uc.mem_read(handler, 4))
        except UcError:
            return False
        return code[:2] == SELF_BRANCHES[0] or code == SELF_BRANCHES[1]

    def _enter_fault_handler(self: Simulation, fault: Fault) -> bool:
        entered = self.exc_model.enter(fault.exception, fault.return_address)
        if not entered:
            # Stacking failed (SP outside writable RAM, e.g. a stack overflow): the derived
            # stacking fault cannot be handled either; report the fault.
            sp = self.uc.reg_read(arm.UC_ARM_REG_SP)
            self._stop_for(fault, f"the {NAMES.get(fault.exception, fault.exception)} "
                           f"exception frame cannot be pushed: the stack pointer {sp:#010x} "
                           "is not in writable RAM (stacking error, lockup)")
        return entered

    def _faulting_access(self: Simulation, block: Block, pc: int, access: int,
                         address: int) -> int:
        """The instruction of `block` that made the bad data access: Unicorn reports the
        block's start as the PC in memory hooks (sim/core/access.py), so it is found from the
        registers, as the counter registers' readers are."""
        if pc != block.address or access in FETCHES:
            return pc
        idx = locate(block.insns, 0, address, lambda r: self.uc.reg_read(UC_REG[r]))
        return block.insns[idx].address if idx is not None else pc

    def _fault_from_error(self: Simulation, kind: str, message: str, pc: int) -> bool:
        """An undefined instruction or a branch to ARM state that ended emu_start: a
        UsageFault (UNDEFINSTR, INVSTATE). True if it is handled (entered, or the stop decided
        here)."""
        if kind != "undefined_instruction":
            return False
        bit = CFSR_INVSTATE if self._arm_state() else CFSR_UNDEFINSTR
        if self._take_fault(fault_status.usage_fault(kind, message, pc, bit), deferred=True):
            self._enter_pending_fault()
        return True

    def _enter_pending_fault(self: Simulation) -> bool:
        """After emu_start stopped at a bad memory access whose handler is to run: enter it
        and restart there (`_restart_at`). The IT bits are cleared first, the handler's xPSR
        starting outside any IT block (the stacked xPSR keeps them for the return)."""
        pending, self._pending_fault = self._pending_fault, None
        if pending is None:
            return False
        return_address = pending.return_address
        block = self._current
        if block is not None and return_address == block.address:
            # Not located from the registers in the hook: after emu_start the PC may be the
            # faulting instruction's (loads); it is not always (stores).
            after = self.uc.reg_read(arm.UC_ARM_REG_PC)
            if block.address <= after < block.address + block.size:
                return_address = after
        if not self._enter_fault_handler(replace(pending, return_address=return_address)):
            return True
        xpsr = self.uc.reg_read(arm.UC_ARM_REG_XPSR)
        if xpsr & XPSR_IT:
            self.uc.reg_write(arm.UC_ARM_REG_XPSR, xpsr & ~XPSR_IT)
        self._restart_at = self.uc.reg_read(arm.UC_ARM_REG_PC) & ~1
        return True
