"""How a run stops other than by exiting: CPU exceptions (semihosting BKPT, faults, SVC),
bad memory accesses, reset requests, waits for interrupts, stack budgets and stop signals.
A mixin of `Simulation`."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING

import unicorn.arm_const as arm
from unicorn import Uc, UcError
from unicorn.unicorn_const import UC_MEM_FETCH_PROT

from mcusim.sim.core import fault_status, faults, interrupt
from mcusim.sim.core.exceptions import EXC_RETURN_MIN
from mcusim.sim.core.stack_check import budget_message, overflow_note

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation

SEMIHOSTING_BKPT = 0xAB
XPSR_T = 1 << 24


@dataclass
class StopInfo:
    """Why the run stopped (a fault kind of sim/faults.py, "limit" or "reset")."""

    kind: str
    message: str
    pc: int
    address: int | None = None


class StopHooks:
    """Unicorn hooks that end or interrupt the run; the state they use is Simulation's."""

    def _on_wait(self: Simulation, uc: Uc, address: int, size: int, mnemonic: str) -> None:
        """WFI/WFE: the core sleeps until an interrupt or event (sim/core/exceptions.py); the
        run stops here if none can ever come."""
        if self.exc_model.sleep(address, size, mnemonic):
            return
        block = self._current
        if block is not None:
            self._take_back(block, block.count_before(address))
        where = self.firmware.symbols.describe(address)
        self._halt("limit", f"{mnemonic} at {where}: the core waits for an interrupt or event, "
                   "which never comes (no interrupt source can pend an exception that wakes "
                   "it)", address)

    def _on_interrupt(self: Simulation, uc: Uc, intno: int, _: object) -> None:
        pc = uc.reg_read(arm.UC_ARM_REG_PC)
        if intno == faults.EXCP_BKPT and self._halfword(pc) == 0xBE00 | SEMIHOSTING_BKPT:
            self._semihosting_call(uc, pc)
            return
        if intno == faults.EXCP_SWI and self.exc_model.svc(pc):
            return  # SVCall (or HardFault) entered
        if (intno in (faults.EXCP_PREFETCH_ABORT, faults.EXCP_EXCEPTION_EXIT)
                and pc >= EXC_RETURN_MIN and self.exc_model.exception_return(pc | 1)):
            return  # a branch to EXC_RETURN in Handler mode
        if intno == faults.EXCP_SWI:
            pc -= 2  # Unicorn reports SVC with the PC already past it
        block = self._current
        if block is not None:
            self._take_back(block, block.count_before(pc))
        if intno == faults.EXCP_UDEF and self._arm_state():
            intno = faults.EXCP_INVSTATE
        kind, message = faults.describe_exception(intno, pc, self._halfword(pc))
        if intno == faults.EXCP_PREFETCH_ABORT:  # FAULTS: a fetch from non-executable memory
            kind, message = "memory_fault", faults.describe_memory_fault(
                self.board, UC_MEM_FETCH_PROT, pc, 2)
        fault = fault_status.cpu_exception_fault(intno, kind, message, pc)  # FAULTS (issue 13)
        if fault is not None:
            self._take_fault(fault)
            return
        self._halt(kind, message, pc)

    def _semihosting_call(self: Simulation, uc: Uc, pc: int) -> None:
        block = self._current
        self._pc_hint, self._pc_hint_is_access = pc, False
        op = uc.reg_read(arm.UC_ARM_REG_R0)
        arg = uc.reg_read(arm.UC_ARM_REG_R1)
        result = self.semihosting.call(self.guest_memory, op, arg)
        uc.reg_write(arm.UC_ARM_REG_R0, result)
        # The BKPT completes; the rest of its block runs as a new block from pc + 2.
        if block is not None:
            self._take_back(block, block.count_before(pc) + 1)
        self._current = None
        if self.semihosting.exit is not None:
            uc.reg_write(arm.UC_ARM_REG_PC, pc | 1)
            uc.emu_stop()
        else:
            uc.reg_write(arm.UC_ARM_REG_PC, (pc + 2) | 1)

    def _on_bad_access(self: Simulation, uc: Uc, access: int, address: int, size: int, value: int,
                       _: object) -> bool:
        pc = uc.reg_read(arm.UC_ARM_REG_PC)
        block = self._current
        if block is not None:
            pc = self._faulting_access(block, pc, access, address)  # FAULTS (issue 13)
            self._take_back(block, block.count_before(pc))
        message = faults.describe_memory_fault(self.board, access, address, size)
        overflow = overflow_note(uc.reg_read(arm.UC_ARM_REG_SP), self.board,
                                 self.firmware.symbols)
        message = f"{overflow}; {message}" if overflow else message
        # FAULTS (issue 13): the handler, if it is to run, is entered after emu_start returns.
        self._take_fault(fault_status.memory_fault("memory_fault", message, access, address, pc),
                         deferred=True)
        return False

    def _request_reset(self: Simulation) -> None:
        block = self._current
        pc = block.address if block else 0
        self._halt("reset", "the program requested a system reset (AIRCR.SYSRESETREQ); "
                   "the run ends here", pc)

    def _halt(self: Simulation, kind: str, message: str, pc: int,
              address: int | None = None) -> None:
        if self._stop is None:
            self._stop = StopInfo(kind, message, pc, address)
        self.uc.emu_stop()

    def _arm_state(self: Simulation) -> bool:
        """Whether the core left Thumb state; Unicorn reports that as an undefined instruction."""
        return not self.uc.reg_read(arm.UC_ARM_REG_XPSR) & XPSR_T

    def _halfword(self: Simulation, addr: int) -> int | None:
        try:
            return int.from_bytes(self.uc.mem_read(addr, 2), "little")
        except UcError:
            return None

    def stop_at_stack_budget(self: Simulation, stack_bytes: int, pc: int,
                             resume: int | None) -> None:
        """--max-stack passed at `pc` (the memory tracker says so): the run stops before
        `resume`, the first instruction not run yet (a block's entry, when its static SP
        changes would pass it; the one after a run-time SP write)."""
        if self._stop is not None:
            return
        block = self._current
        if block is not None and resume is not None:
            self._take_back(block, block.count_before(resume))
        where = self.firmware.symbols.describe(pc)
        budget = self.memory_tracker.stack_budget or 0
        self._halt("memory_budget", budget_message(stack_bytes, budget, where), pc)

    def _signal_guard(self: Simulation) -> AbstractContextManager[None]:
        """SIGINT/SIGTERM stop the run (sim/core/interrupt.py)."""
        return interrupt.python_handlers(self._on_stop_signal)

    def _on_stop_signal(self: Simulation, signum: int) -> None:
        if self._stop is None and self.semihosting.exit is None:
            block = self._current
            pc = block.address if block else self.uc.reg_read(arm.UC_ARM_REG_PC)
            self._halt(interrupt.STOP_KINDS[signum],
                       interrupt.stop_message(signum, self.host_timeout), pc)

    def _stop_on_error(self: Simulation, error: UcError) -> None:
        if self._enter_pending_fault():  # FAULTS: a bad access whose handler runs next
            return
        pc = self.uc.reg_read(arm.UC_ARM_REG_PC)
        block = self._current
        if block is not None:
            self._take_back(block, block.count_before(pc))
        kind, message = faults.describe_uc_error(error, pc, self._halfword(pc))
        if kind == "undefined_instruction" and self._arm_state():
            kind, message = faults.describe_exception(faults.EXCP_INVSTATE, pc, None)
        if self._fault_from_error(kind, message, pc):  # FAULTS: UDF/INVSTATE as UsageFaults
            return
        self._stop = StopInfo(kind, message, pc)
