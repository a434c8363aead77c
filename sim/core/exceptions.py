"""Exception entry and return (ARMv7-M ARM B1.5; ARMv6-M ARM B1.5): when and how the core takes
an exception. Which exception, and the NVIC/SCB registers, are `ExceptionState`'s
(sim/devices/nvic.py); frames and mode switches are sim/core/exc_frame.py.

Asynchronous exceptions are taken at block starts, before the block is charged: the block then
does not run (the block hook redirects the core to the handler without leaving emu_start) and
runs from its start after the return. SVC is taken where Unicorn reports it, WFI/WFE advance
simulated time to the next event that wakes the core. An exception return is a branch to an
EXC_RETURN value, which Unicorn reports as a CPU exception at 0xFFFFFFxx. Every accounting
path calls the same methods here at the same points, so all give the same numbers. Latencies
are the core's cycle-table data (`[exceptions]`), charged to the run's cycle count, not to any
block; the vector fetch adds the wait states of the flash the vector table is in.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import unicorn.arm_const as arm

from mcusim.sim.core.blocks import Block
from mcusim.sim.core.exc_event import ExceptionEvent, ExceptionKind, ExceptionWatcher
from mcusim.sim.core.exc_frame import (
    CONTROL_FPCA,
    CONTROL_SPSEL,
    EXC_RETURN_BASIC_FRAME,
    EXC_RETURN_HANDLER,
    EXC_RETURN_THREAD_PSP,
    XPSR_ALIGNED,
    XPSR_APSR,
    XPSR_IPSR,
    XPSR_T,
    CoreRegisters,
    Frame,
    FrameError,
    exc_return_value,
    valid_exc_return,
)
from mcusim.sim.core.fault_entry import vector_address
from mcusim.sim.core.fault_status import NAMES
from mcusim.sim.devices.exc_numbers import HARDFAULT, HFSR_FORCED, SVCALL

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation

NO_EVENT = 1 << 62  # "never" as a cycle count (fits the C side's uint64)
EXC_RETURN_MIN = 0xFFFFFF00  # a PC from here up is an exception return, not a fetch
CCR_NONBASETHRDENA = 1
FPCCR, FPCAR = 0xE000EF34, 0xE000EF38
FPCCR_LSPEN, FPCCR_LSPACT = 1 << 30, 1
MAX_IDLE_EVENTS = 10000  # events a sleeping core lets pass without waking before it gives up


class ExceptionModel:
    """The exception side of one Simulation: latencies, the frames stacked so far, and the
    next cycle at which an interrupt source needs a look."""

    def __init__(self, sim: Simulation):
        self.sim = sim
        self.state = sim.core_peripherals.exceptions
        self.v6m = sim.board.core.is_v6m
        self.has_fpu = sim.board.fpu is not None and not self.v6m
        self.regs = CoreRegisters(sim.uc, self.has_fpu)
        table = getattr(sim.timing, "table", None)
        latency = getattr(table, "exceptions", {}) or {}
        self.entry = latency.get("entry", 0)
        self.exit = latency.get("exit", 0)
        self.tail_chain = latency.get("tail_chain", 0)
        self.late_arrival = latency.get("late_arrival", 0)
        # Per stacked frame: its return address and the block that ran last before the entry.
        self.entered_from: list[tuple[int, Block | None]] = []
        self.event_register = False  # WFE: set by exception entry and return
        self.next_event = NO_EVENT
        self.state.read_masks = lambda: self.regs.masks(self.v6m)

    # -- asynchronous exceptions ---------------------------------------------------------------
    def poll(self, address: int) -> bool:
        """At the start of the block at `address`, before it is charged: sources due by now pend
        their exceptions, and the one that preempts (if any) is taken. Returns whether the core
        was redirected (the block does not run now)."""
        state = self.state
        state.changed = False
        now = self.sim.cycles
        state.advance(now)
        masks = self.regs.masks(self.v6m)
        number = state.pending_to_take(*masks)
        if number is not None and not self.enter(number, address, masks):
            self._stop(f"stacking the frame of exception {number} failed: the stack pointer "
                       f"{self.regs.read(arm.UC_ARM_REG_SP):#010x} is not in writable memory "
                       "(STKERR, escalated to HardFault: lockup)", address)
        self._schedule()
        return number is not None

    def _schedule(self) -> None:
        when = self.state.next_event_cycle()
        self.next_event = NO_EVENT if when is None else when
        self.sim._exception_schedule(self.next_event)

    # -- entry ----------------------------------------------------------------------------------
    def enter(self, number: int, return_address: int,
              masks: tuple[int, int, int] | None = None, what: str | None = None) -> bool:
        """Stacks a frame (R0-R3, R12, LR, `return_address`, xPSR with its IT bits) on the
        current stack, switches to Handler mode and continues at the handler of `number` (or
        of a late-arriving one), from a hook or between emu_starts. False, with nothing
        changed, if the frame cannot be stacked; a bad vector stops the run (True)."""
        sim, regs, state = self.sim, self.regs, self.state
        if masks is None:
            masks = regs.masks(self.v6m)
        xpsr = regs.read(arm.UC_ARM_REG_XPSR)
        control = regs.read(arm.UC_ARM_REG_CONTROL)
        sp = regs.read(arm.UC_ARM_REG_SP)
        handler_mode = xpsr & XPSR_IPSR != 0
        on_psp = not handler_mode and control & CONTROL_SPSEL != 0
        extended = self.has_fpu and control & CONTROL_FPCA != 0
        msp, psp = regs.stacks()
        try:
            frame = regs.push_frame(sp, "psp" if on_psp else "msp", return_address, xpsr,
                                    extended, state.stkalign)
        except FrameError:
            sim.uc.reg_write(arm.UC_ARM_REG_XPSR, xpsr)  # (stacks() may have left Thread mode)
            return False
        start = sim.cycles
        number, cycles = self._late_arrival(number, start, masks)
        vector = self._vector(number, return_address, what)
        if vector is None:
            return True
        handler, wait_states = vector
        state.activate(number)
        if on_psp:
            psp = frame.address
        else:
            msp = frame.address
        sim.uc.reg_write(arm.UC_ARM_REG_LR, exc_return_value(handler_mode, on_psp, extended))
        regs.switch_mode(msp, psp, control & ~(CONTROL_SPSEL | CONTROL_FPCA),
                         (xpsr & XPSR_APSR) | XPSR_T | number, handler)
        self.entered_from.append((return_address & ~1, sim._current))
        if extended:
            self._lazy_fp_state(frame)
        self._charge("entry", number, cycles + wait_states, frame, sp, frame.address, handler)
        sim._current = None  # the handler is entered, not branched to
        self.event_register = True
        return True

    def _late_arrival(self, number: int, start: int,
                      masks: tuple[int, int, int]) -> tuple[int, int]:
        """A higher-priority exception pended before the entry latency is over takes the vector
        instead (the stacking is the same); its handler starts `late_arrival` cycles after it
        arrived at the earliest. Returns the exception taken and the entry's cycles."""
        state = self.state
        when = state.next_event_cycle()
        if when is None or when >= start + self.entry:
            return number, self.entry
        state.advance(when)
        late = state.pending_to_take(*masks)
        if late is None or late == number:
            return number, self.entry
        return late, max(self.entry, when + self.late_arrival - start)

    def _vector(self, number: int, pc: int, what: str | None = None) -> tuple[int, int] | None:
        """The handler address of `number` from the vector table (VTOR), and the wait states of
        reading it from flash; None, with the run stopped, if the table has no such entry
        (sim/core/fault_entry.py vector_address)."""
        address = self.state.vector_table() + 4 * number
        handler = vector_address(self.sim, number)
        if handler is None:
            name = NAMES.get(number, f"exception {number}")
            self._stop(f"{what or name}: the vector table at {self.state.vector_table():#010x} "
                       f"has no {name} vector (entry {address:#010x}; a vector read fault "
                       "escalates to HardFault: lockup)", pc)
            return None
        flash = next((f for f in self.sim.flash if f.region.contains(address)), None)
        return handler, flash.ws if flash is not None else 0

    # -- synchronous exceptions -----------------------------------------------------------------
    def svc(self, pc: int) -> bool:
        """SVC reported with the PC past it: the SVC completes and SVCall is taken (or, when its
        priority cannot preempt, HardFault: ARMv7-M B1.5.11 escalation). False if the core locks
        up instead (the caller reports it)."""
        sim, state = self.sim, self.state
        masks = self.regs.masks(self.v6m)
        state.set_pending(SVCALL)
        number = state.pending_to_take(*masks)
        if number is None:
            state.clear_pending(SVCALL)
            if not state.can_preempt(HARDFAULT, *masks):
                return False
            state.record_fault(hfsr=HFSR_FORCED)
            state.set_pending(HARDFAULT)
            number = HARDFAULT
        block = sim._current
        if block is not None:  # the SVC completes; what follows it runs after the return
            sim._take_back(block, block.count_before(pc - 2) + 1)
        svc = self.sim._halfword(pc - 2)
        what = f"SVC #{svc & 0xFF if svc is not None else '?'} at {pc - 2:#010x}"
        if not self.enter(number, pc, masks, what):
            self._stop(f"SVC at {pc - 2:#010x}: stacking its exception frame failed (the "
                       "stack pointer is not in writable memory; STKERR)", pc - 2)
        self._schedule()
        return True

    def sleep(self, address: int, size: int, mnemonic: str) -> bool:
        """WFI/WFE at `address` (a code hook, before it runs): simulated time advances to the
        first event that wakes the core, and the exception it pends is taken if it preempts
        (with PRIMASK set the core only wakes). False, with nothing changed, if nothing can
        wake the core."""
        sim, state = self.sim, self.state
        block = sim._current
        masks = self.regs.masks(self.v6m)
        event = mnemonic == "WFE" and (self.event_register or state.wake_event)
        wake = 0
        if not event:
            before = sim.cycles
            if block is not None:
                before += block.cycles_before(address) - block.cycles
            found = self._wake_time(before, masks, mnemonic == "WFE")
            if found is None:
                return False
            wake = found
        if block is not None:  # the WFI/WFE completes; what follows it runs after
            sim._take_back(block, block.count_before(address) + 1)
        self.event_register = state.wake_event = False
        resume = address + size
        if event:
            return self._resume(resume)
        sim._add_cycles(max(0, wake - sim.cycles))  # asleep: the time of the WFI
        number = state.pending_to_take(*masks)
        if number is None:
            self._resume(resume)
        elif not self.enter(number, resume, masks):
            self._stop(f"waking from {mnemonic} at {address:#010x}: stacking the frame of "
                       f"exception {number} failed (STKERR)", address)
        self._schedule()
        return True

    def _wake_time(self, now: int, masks: tuple[int, int, int],
                   wfe: bool = False) -> int | None:
        """The first cycle from `now` on at which an exception is pending that would preempt
        with PRIMASK clear (ARMv7-M B1.5.19: what wakes WFI), or for WFE an exception became
        pending with SCR.SEVONPEND; None if none ever will."""
        state = self.state
        for _ in range(MAX_IDLE_EVENTS):
            state.advance(now)
            if state.pending_to_take(0, masks[1], masks[2]) is not None or (
                    wfe and state.wake_event):
                return now
            when = state.next_event_cycle()
            if when is None:
                return None
            now = max(now, when)
        return None

    def _resume(self, resume: int) -> bool:
        self.sim.uc.reg_write(arm.UC_ARM_REG_PC, resume | 1)
        self.sim._current = None
        return True

    # -- return ---------------------------------------------------------------------------------
    def exception_return(self, value: int) -> bool:
        """A branch to EXC_RETURN `value` in Handler mode: tail-chain into a pending exception
        that preempts the context returned to, else unstack and return. False when the core
        is not in Handler mode (a jump to 0xFFFFFFxx in Thread mode faults as any bad fetch)."""
        sim, regs, state = self.sim, self.regs, self.state
        xpsr = regs.read(arm.UC_ARM_REG_XPSR)
        number = xpsr & XPSR_IPSR
        if not number:
            return False
        pc = value & ~1
        low = value & 0xF
        to_thread = low != EXC_RETURN_HANDLER
        others = [e for e in state.active_exceptions() if e != number]
        if not valid_exc_return(value, self.has_fpu) or (
                to_thread and others and not state.ccr & CCR_NONBASETHRDENA) or (
                not to_thread and not others):
            self._stop(f"exception return from exception {number} with EXC_RETURN "
                       f"{value:#010x}, which is not valid here (UsageFault INVPC, "
                       "escalated to HardFault)", pc)
            return True
        on_psp = low == EXC_RETURN_THREAD_PSP
        extended = not value & EXC_RETURN_BASIC_FRAME
        msp, psp = regs.stacks()
        frame = Frame(psp if on_psp else msp, "psp" if on_psp else "msp", extended)
        state.deactivate(number)
        state.advance(sim.cycles)
        control = regs.read(arm.UC_ARM_REG_CONTROL)
        masks = self.regs.masks(self.v6m)
        chained = state.pending_to_take(*masks)
        if chained is None and to_thread and state.sleep_on_exit:
            # SCR.SLEEPONEXIT: the core sleeps instead of returning to Thread mode; what wakes
            # it is taken as a tail-chain (ARMv7-M B1.5.19).
            wake = self._wake_time(sim.cycles, masks)
            if wake is None:
                sim._halt("limit", f"exception return from exception {number} with "
                          "SCR.SLEEPONEXIT: the core sleeps, and no interrupt source can pend "
                          "an exception that wakes it", pc)
                return True
            sim._add_cycles(wake - sim.cycles)
            chained = state.pending_to_take(*masks)
        abandoned = 0
        when = state.next_event_cycle()
        if chained is None and when is not None and when < sim.cycles + self.exit:
            # An exception arriving during the unstacking abandons it and is tail-chained
            # from its arrival (ARMv7-M B1.5.12; Cortex-M3/M4 generic user guides).
            state.advance(when)
            chained = state.pending_to_take(*masks)
            abandoned = max(0, when - sim.cycles) if chained is not None else 0
        if chained is not None:
            vector = self._vector(chained, pc)
            if vector is None:
                return True
            handler, wait_states = vector
            state.activate(chained)
            regs.switch_mode(msp, psp, control & ~(CONTROL_SPSEL | CONTROL_FPCA),
                             (xpsr & XPSR_APSR) | XPSR_T | chained, handler)
            sim.uc.reg_write(arm.UC_ARM_REG_LR, value)
            self._charge("tail_chain", chained, abandoned + self.tail_chain + wait_states,
                         frame, frame.address, frame.address, handler)
            sim._current = None
        else:
            try:
                resume, stacked, sp = regs.pop_frame(frame, state.stkalign)
            except FrameError as e:
                self._stop(f"unstacking the exception frame at {e.address:#010x} failed: "
                           "the stack is not in memory (UNSTKERR, escalated to HardFault)",
                           pc)
                return True
            if on_psp:
                psp = sp
            else:
                msp = sp
            control &= ~(CONTROL_SPSEL | CONTROL_FPCA)
            control |= (CONTROL_SPSEL if on_psp else 0) | (CONTROL_FPCA if extended else 0)
            regs.switch_mode(msp, psp, control, (stacked & ~XPSR_ALIGNED) | XPSR_T, resume)
            if extended:
                self._lazy_fp_state(None)
            self._charge("return", number, self.exit, frame, frame.address, sp, resume & ~1)
            came_from = self.entered_from.pop() if self.entered_from else (None, None)
            # The interrupted code resumes as if the handler had not run: its next block is
            # accounted against the block before the entry (unless a context switch changed
            # where it resumes).
            sim._current = came_from[1] if came_from[0] == resume & ~1 else None
        self.event_register = True
        self._schedule()
        return True

    # -- helpers --------------------------------------------------------------------------------
    def _lazy_fp_state(self, frame: Frame | None) -> None:
        """FPCCR.LSPACT and FPCAR as lazy stacking leaves them (ARMv7-M B1.5.7, B3.2.22): with
        LSPEN, an entry with an FP frame reserves S0-S15/FPSCR space at FPCAR = frame + 0x20
        and sets LSPACT; the return from such a frame clears it. The registers are stacked
        at entry here (the values the hardware would save on the handler's first FP
        instruction, and restore on return), at the latency of lazy stacking. Not modelled:
        the handler's first FP instruction clearing LSPACT."""
        stored = self.sim.core_peripherals.stored
        fpccr = stored.get(FPCCR, 0)
        if frame is None:
            stored[FPCCR] = fpccr & ~FPCCR_LSPACT
        elif fpccr & FPCCR_LSPEN:
            stored[FPCCR] = fpccr | FPCCR_LSPACT
            stored[FPCAR] = frame.address + 0x20

    def _charge(self, kind: ExceptionKind, number: int, cycles: int, frame: Frame,
                sp_before: int, sp_after: int, handler: int) -> None:
        """The latency goes to the run's cycle count (no block's), then observers hear of it."""
        sim = self.sim
        sim.cycles += cycles
        sim._exception_event(ExceptionEvent(kind, number, cycles, frame.stack,  # type: ignore[arg-type]
                                            sp_before, sp_after, handler))

    def _stop(self, message: str, pc: int) -> None:
        self.sim._halt("escalated_fault", message, pc)


class ExceptionHooks:
    """What Simulation offers around exceptions: observers' events, the entry faults use, the
    schedule of block-start checks. A mixin of `Simulation`."""

    def watch_exceptions(self: Simulation, watcher: ExceptionWatcher) -> None:
        """`watcher(event)` at each exception entry, return and tail-chain, on every accounting
        path (sim/core/exc_event.py says what an event holds and when it is raised)."""
        self._exception_watchers.append(watcher)

    def _exception_event(self: Simulation, event: ExceptionEvent) -> None:
        """Raised by the exception model after it charged the event's latency; an accounting
        path that keeps observers' state elsewhere may override it (and call this)."""
        totals = self.exception_latency.setdefault(event.kind, [0, 0])
        totals[0] += 1
        totals[1] += event.cycles
        for watch in self._exception_watchers:
            watch(event)

    def enter_exception(self: Simulation, number: int, return_address: int) -> bool:
        """Take exception `number` now (a fault, from a hook or between emu_starts): False,
        with nothing changed, if its frame cannot be stacked."""
        return self.exc_model.enter(number, return_address)

    def _exception_schedule(self: Simulation, cycle: int) -> None:
        """The cycle from which block starts look at the interrupt sources again."""
        self._exc_next = cycle
