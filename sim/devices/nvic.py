"""Exception bookkeeping of the NVIC and SCB: which exceptions are enabled, pending and active,
their priorities, and which one the core takes next (ARMv7-M ARM B1.5, ARMv6-M ARM B1.5).
No Unicorn in here: the engine (sim/core/exceptions.py) decides when and how an exception is
taken; this module says which one, and answers the NVIC and SCB registers (sim/devices/scb.py
has the SCB half).

Priorities are the registers' bytes with only the implemented high bits kept (2 on ARMv6-M, the
SoC's `[nvic] priority_bits` otherwise); reset, NMI and HardFault have the fixed priorities -3,
-2 and -1. Group priorities (AIRCR.PRIGROUP) decide preemption; the full byte, then the lowest
exception number, decides among pending ones.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from mcusim.memory.board_spec import BoardSpec
from mcusim.sim.devices import scb
from mcusim.sim.devices.exc_numbers import (
    ALWAYS_ENABLED,
    BUSFAULT,
    CCR_DIV_0_TRP,
    CCR_STKALIGN,
    CCR_UNALIGN_TRP,
    FIRST_IRQ,
    FIXED_PRIORITIES,
    ICTR,
    MAX_IRQS,
    MEMMANAGE,
    NVIC_FIRST,
    NVIC_IABR,
    NVIC_ISER,
    NVIC_LAST,
    RESET,
    SCB_FIRST,
    SCB_LAST,
    SCR_SEVONPEND,
    SCR_SLEEPONEXIT,
    SHCSR_ENABLE_SHIFT,
    STIR,
    THREAD_PRIORITY,
    USAGEFAULT,
    V6M_SYSTEM_PRIORITIES,
    V7M_SYSTEM_PRIORITIES,
    is_priority_byte,
    is_write_one,
    priority_exception,
)


class InterruptSource(Protocol):
    """Something that pends exceptions at known cycles (SysTick, a board timer, --irq)."""

    def next_event_cycle(self) -> int | None: ...

    def advance(self, now: int) -> None: ...


@dataclass(frozen=True)
class NvicConfig:
    """What the core and SoC implement: architecture, priority bits, IRQ lines, reset values."""

    v6m: bool = False
    priority_bits: int = 4
    irqs: int = 32
    vtor_reset: int = 0
    ccr_reset: int = 0x200
    has_vtor: bool = True
    ccr_writable: int = 0x31B  # NONBASETHRDENA, USERSETMPEND, UNALIGN_TRP, DIV_0_TRP, BFHFNMIGN,
    # STKALIGN (ARMv7-M B3.2.8)

    def __post_init__(self) -> None:
        if not 2 <= self.priority_bits <= 8:
            raise ValueError(f"priority bits must be 2 to 8, not {self.priority_bits}")
        if not 0 <= self.irqs <= (32 if self.v6m else MAX_IRQS):
            raise ValueError(f"{self.irqs} IRQs: at most {32 if self.v6m else MAX_IRQS}")

    @classmethod
    def for_board(cls, board: BoardSpec) -> NvicConfig:
        core = board.core
        return cls(v6m=core.is_v6m, priority_bits=2 if core.is_v6m else board.nvic_priority_bits,
                   irqs=board.nvic_irqs, has_vtor=core.has_vtor,
                   vtor_reset=board.boot_address & 0xFFFFFF80 if core.has_vtor else 0,
                   ccr_reset=core.ccr_reset, ccr_writable=core.ccr_writable)


class ExceptionState:
    """NVIC + SCB exception bookkeeping: enabled/pending/active per exception number (1 reset,
    2 NMI, 3 HardFault, 4 MemManage, 5 BusFault, 6 UsageFault, 11 SVCall, 12 DebugMonitor,
    14 PendSV, 15 SysTick, 16+n IRQ n), priorities, AIRCR.PRIGROUP, VTOR, CCR, SCR, SHCSR and
    the fault status registers.

    `changed` is set by anything that may make an exception takeable (a pending bit set, an
    enable, a priority change, a return) or move `next_event_cycle()`; the engine clears it
    after looking."""

    def __init__(self, config: NvicConfig | None = None,
                 request_reset: Callable[[], None] | None = None):
        self.config = config = config or NvicConfig()
        self.v6m = config.v6m
        self.irqs = config.irqs
        self.count = FIRST_IRQ + config.irqs  # exception numbers 0 .. count-1
        self.priority_mask = (0xFF << (8 - config.priority_bits)) & 0xFF
        self.request_reset = request_reset
        self.changed = False
        self.priority = [0] * self.count
        for exc, p in FIXED_PRIORITIES.items():
            self.priority[exc] = p
        self.enabled_irqs = bytearray(config.irqs)
        self.pending: set[int] = set()
        self.active_stack: list[int] = []  # in order of activation: the last one is IPSR's
        self.sources: list[InterruptSource] = []
        # The core's PRIMASK, BASEPRI, FAULTMASK, for reads that depend on them (the engine sets
        # it; ICSR.VECTPENDING ignores the masks, as QEMU does).
        self.read_masks: Callable[[], tuple[int, int, int]] = lambda: (0, 0, 0)
        self.wake_event = False  # SCR.SEVONPEND: an interrupt became pending (WFE wakes)
        self.prigroup = 0
        self.vtor = config.vtor_reset
        self.scr = 0
        self.ccr = config.ccr_reset
        # Called with the new CCR after each software write (the fault model arms its
        # DIV_0_TRP / UNALIGN_TRP hooks only while those bits are set).
        self.ccr_watchers: list[Callable[[int], None]] = []
        self.fault_enables = 0  # SHCSR bits 16-18: MemManage, BusFault, UsageFault
        self.cfsr = self.hfsr = self.dfsr = self.afsr = 0
        self.mmfar = self.bfar = 0

    # -- state changes ----------------------------------------------------------------------
    def set_pending(self, exc: int) -> None:
        if not 0 < exc < self.count or exc == RESET:
            return
        if exc not in self.pending:
            self.pending.add(exc)
            if self.scr & SCR_SEVONPEND:
                self.wake_event = True
        self.changed = True

    def clear_pending(self, exc: int) -> None:
        self.pending.discard(exc)

    def is_pending(self, exc: int) -> bool:
        return exc in self.pending

    def activate(self, exc: int) -> None:
        """Exception entry: `exc` goes from pending to active."""
        self.pending.discard(exc)
        if exc not in self.active_stack:
            self.active_stack.append(exc)

    def deactivate(self, exc: int) -> None:
        """Exception return from `exc` (lowers the execution priority)."""
        if exc in self.active_stack:
            self.active_stack.remove(exc)
        self.changed = True

    def set_active(self, exc: int, active: bool) -> None:
        """SHCSR active bits written by software (context switches in debug monitors)."""
        if active:
            if exc not in self.active_stack:
                self.active_stack.append(exc)
        else:
            self.deactivate(exc)

    def active_exceptions(self) -> list[int]:
        return sorted(self.active_stack)

    def is_active(self, exc: int) -> bool:
        return exc in self.active_stack

    def current_exception(self) -> int:
        """The exception being handled (IPSR), 0 in Thread mode."""
        return self.active_stack[-1] if self.active_stack else 0

    def set_enabled(self, exc: int, enabled: bool) -> None:
        if exc >= FIRST_IRQ:
            if exc < self.count:
                self.enabled_irqs[exc - FIRST_IRQ] = enabled
        elif exc in (MEMMANAGE, BUSFAULT, USAGEFAULT) and not self.v6m:
            bit = 1 << SHCSR_ENABLE_SHIFT[exc]
            self.fault_enables = self.fault_enables | bit if enabled else self.fault_enables & ~bit
        else:
            return
        self.changed = True

    def is_enabled(self, exc: int) -> bool:
        if exc >= FIRST_IRQ:
            return exc < self.count and bool(self.enabled_irqs[exc - FIRST_IRQ])
        if exc in ALWAYS_ENABLED:
            return True
        if exc in SHCSR_ENABLE_SHIFT and not self.v6m:
            return bool(self.fault_enables >> SHCSR_ENABLE_SHIFT[exc] & 1)
        return False  # reset; DebugMonitor (DEMCR.MON_EN is not modelled); reserved numbers

    def set_priority(self, exc: int, value: int) -> None:
        programmable = V6M_SYSTEM_PRIORITIES if self.v6m else V7M_SYSTEM_PRIORITIES
        if exc in programmable or FIRST_IRQ <= exc < self.count:
            self.priority[exc] = value & self.priority_mask
            self.changed = True

    # -- priorities ---------------------------------------------------------------------------
    def group_priority(self, priority: int) -> int:
        """The group priority of a priority value: its subpriority bits (PRIGROUP) cleared."""
        if priority < 0 or self.v6m:
            return priority
        return priority & ~((2 << self.prigroup) - 1)

    def execution_priority(self, primask: int, basepri: int, faultmask: int) -> int:
        """ARMv7-M ARM B1.5.4 ExecutionPriority(): the highest group priority of the active
        exceptions, boosted by PRIMASK (0), BASEPRI (its group priority), FAULTMASK (-1);
        256 in Thread mode with no boost."""
        highest = THREAD_PRIORITY
        for exc in self.active_stack:
            highest = min(highest, self.group_priority(self.priority[exc]))
        boosted = THREAD_PRIORITY
        if not self.v6m:
            basepri &= self.priority_mask
            if basepri:
                boosted = self.group_priority(basepri)
        if primask & 1:
            boosted = 0
        if faultmask & 1 and not self.v6m:
            boosted = -1
        return min(highest, boosted)

    def highest_pending(self) -> int | None:
        """The pending and enabled exception with the highest priority (the full priority value,
        then the lowest number): ICSR.VECTPENDING before masking."""
        best: int | None = None
        for exc in self.pending:
            if self.is_enabled(exc) and (best is None or (self.priority[exc], exc)
                                         < (self.priority[best], best)):
                best = exc
        return best

    def pending_to_take(self, primask: int, basepri: int, faultmask: int) -> int | None:
        """The exception the core takes now, if any: the highest-priority pending and enabled
        one, if its group priority is higher (lower number) than the execution priority."""
        if not self.pending:
            return None
        best = self.highest_pending()
        if best is None:
            return None
        if self.group_priority(self.priority[best]) < self.execution_priority(
                primask, basepri, faultmask):
            return best
        return None

    def can_preempt(self, exc: int, primask: int, basepri: int, faultmask: int) -> bool:
        """Whether `exc` would be taken now (for synchronous exceptions: else it escalates)."""
        return self.group_priority(self.priority[exc]) < self.execution_priority(
            primask, basepri, faultmask)

    # -- interrupt sources --------------------------------------------------------------------
    def add_source(self, source: InterruptSource) -> None:
        self.sources.append(source)
        self.changed = True

    def next_event_cycle(self) -> int | None:
        """The earliest cycle at which a source pends something, None if none will."""
        best: int | None = None
        for s in self.sources:
            t = s.next_event_cycle()
            if t is not None and (best is None or t < best):
                best = t
        return best

    def advance(self, now: int) -> None:
        """Sources whose time is <= now set their pending bits."""
        for s in self.sources:
            t = s.next_event_cycle()
            if t is not None and t <= now:
                s.advance(now)

    # -- SCB values the engine and the fault model use ---------------------------------------
    def vector_table(self) -> int:
        return self.vtor

    @property
    def stkalign(self) -> bool:
        return bool(self.ccr & CCR_STKALIGN)

    @property
    def div_0_trap(self) -> bool:
        return bool(self.ccr & CCR_DIV_0_TRP)

    @property
    def unalign_trap(self) -> bool:
        return bool(self.ccr & CCR_UNALIGN_TRP)

    @property
    def sleep_on_exit(self) -> bool:
        return bool(self.scr & SCR_SLEEPONEXIT)

    def record_fault(self, cfsr: int = 0, hfsr: int = 0, dfsr: int = 0,
                     mmfar: int | None = None, bfar: int | None = None) -> None:
        """A fault sets its status bits (ORed in; software clears them by writing 1s) and the
        fault address registers (the caller also sets CFSR.MMARVALID/BFARVALID)."""
        if self.v6m:
            return  # ARMv6-M has no fault status registers
        self.cfsr |= cfsr & 0xFFFFFFFF
        self.hfsr |= hfsr & 0xFFFFFFFF
        self.dfsr |= dfsr & 0xFFFFFFFF
        if mmfar is not None:
            self.mmfar = mmfar & 0xFFFFFFFF
        if bfar is not None:
            self.bfar = bfar & 0xFFFFFFFF

    def fault_status(self) -> dict[str, int]:
        return {"CFSR": self.cfsr, "HFSR": self.hfsr, "DFSR": self.dfsr,
                "MMFAR": self.mmfar, "BFAR": self.bfar, "AFSR": self.afsr}

    # -- registers ----------------------------------------------------------------------------
    @staticmethod
    def handles(addr: int) -> bool:
        """Whether `addr` is one of the registers answered here."""
        return (NVIC_FIRST <= addr <= NVIC_LAST or SCB_FIRST <= addr <= SCB_LAST
                or addr & ~3 in (ICTR, STIR))

    def read(self, addr: int, size: int) -> int:
        if is_priority_byte(addr):
            return int.from_bytes(bytes(self._read_priority_byte(addr + i)
                                        for i in range(size)), "little")
        shift = 8 * (addr & 3)
        return (self._read_word(addr & ~3) >> shift) & ((1 << (8 * size)) - 1)

    def write(self, addr: int, size: int, value: int) -> None:
        if is_priority_byte(addr):
            for i in range(size):
                self._write_priority_byte(addr + i, value >> (8 * i) & 0xFF)
            return
        word, shift = addr & ~3, 8 * (addr & 3)
        value = (value << shift) & 0xFFFFFFFF
        if size != 4 and not is_write_one(word):
            mask = ((1 << (8 * size)) - 1) << shift
            value = (self._read_word(word) & ~mask) | (value & mask)
        self._write_word(word, value)

    def _read_priority_byte(self, addr: int) -> int:
        exc = priority_exception(addr)
        if exc is None or exc >= self.count:
            return 0
        programmable = V6M_SYSTEM_PRIORITIES if self.v6m else V7M_SYSTEM_PRIORITIES
        if exc < FIRST_IRQ and exc not in programmable:
            return 0
        return self.priority[exc]

    def _write_priority_byte(self, addr: int, value: int) -> None:
        exc = priority_exception(addr)
        if exc is not None:
            self.set_priority(exc, value)

    def _irq_bits(self, offset: int, test: Callable[[int], bool]) -> int:
        first = FIRST_IRQ + 32 * offset
        return sum(1 << i for i in range(32) if first + i < self.count and test(first + i))

    def _read_word(self, addr: int) -> int:
        if SCB_FIRST <= addr <= SCB_LAST:
            return scb.read_word(self, addr)
        if addr == ICTR:
            return 0 if self.v6m else max(0, (self.irqs + 31) // 32 - 1)
        if NVIC_ISER <= addr < NVIC_IABR + 0x40:
            bank, index = divmod(addr - NVIC_ISER, 0x80)
            index //= 4
            if bank in (0, 1):
                return self._irq_bits(index, self.is_enabled)
            if bank in (2, 3):
                return self._irq_bits(index, self.is_pending)
            if not self.v6m:  # IABR: ARMv7-M only
                return self._irq_bits(index, self.is_active)
        return 0  # reserved, STIR (write-only)

    def _write_word(self, addr: int, value: int) -> None:
        if SCB_FIRST <= addr <= SCB_LAST:
            scb.write_word(self, addr, value)
            return
        if addr == STIR:
            if not self.v6m:  # CCR.USERSETMPEND (unprivileged STIR writes) is not checked
                self.set_pending(FIRST_IRQ + (value & 0x1FF))
            return
        if not NVIC_ISER <= addr < NVIC_IABR:
            return  # ICTR, IABR: read-only; reserved: ignored
        bank, index = divmod(addr - NVIC_ISER, 0x80)
        first = FIRST_IRQ + 32 * (index // 4)
        for i in range(32):
            if value >> i & 1 and first + i < self.count:
                exc = first + i
                if bank == 0:
                    self.set_enabled(exc, True)
                elif bank == 1:
                    self.set_enabled(exc, False)
                elif bank == 2:
                    self.set_pending(exc)
                else:
                    self.clear_pending(exc)

