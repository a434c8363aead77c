"""The NVIC and SCB exception state (sim/devices/nvic.py, scb.py), SysTick's interrupt schedule
(sim/devices/systick.py), board-level interrupt sources and the --irq option. Unit tests: no
Unicorn, except the CLI checks at the end."""

from __future__ import annotations

import pytest

from mcusim.base.errors import BoardError, ExitCode, UsageError
from mcusim.isa.core import load_core
from mcusim.memory.board import load_board
from mcusim.sim.cli import main
from mcusim.sim.core.options import IrqSchedule
from mcusim.sim.devices.exc_numbers import (
    BUSFAULT,
    CFSR_BFARVALID,
    CFSR_DIVBYZERO,
    CFSR_PRECISERR,
    CFSR_UNALIGNED,
    FIRST_IRQ,
    HARDFAULT,
    HFSR_FORCED,
    MEMMANAGE,
    NMI,
    PENDSV,
    SVCALL,
    SYSTICK,
    USAGEFAULT,
)
from mcusim.sim.devices.irq_source import ScheduledInterrupts
from mcusim.sim.devices.nvic import ExceptionState, NvicConfig
from mcusim.sim.devices.systick import SysTick

ISER, ICER, ISPR, ICPR, IABR, IPR = (0xE000E100, 0xE000E180, 0xE000E200, 0xE000E280,
                                     0xE000E300, 0xE000E400)
ICSR, VTOR, AIRCR, SCR, CCR = 0xE000ED04, 0xE000ED08, 0xE000ED0C, 0xE000ED10, 0xE000ED14
SHPR1, SHPR2, SHPR3, SHCSR = 0xE000ED18, 0xE000ED1C, 0xE000ED20, 0xE000ED24
CFSR, HFSR, MMFAR, BFAR, STIR, ICTR = (0xE000ED28, 0xE000ED2C, 0xE000ED34, 0xE000ED38,
                                       0xE000EF00, 0xE000E004)
KEY = 0x05FA0000


def v7m(**kw: int) -> ExceptionState:
    return ExceptionState(NvicConfig(**{"irqs": 64, **kw}))


def v6m() -> ExceptionState:
    return ExceptionState(NvicConfig(v6m=True, priority_bits=2, irqs=32, ccr_reset=0x208,
                                     ccr_writable=0))


def irq(n: int) -> int:
    return FIRST_IRQ + n


def set_irq_priority(s: ExceptionState, n: int, prio: int) -> None:
    s.write(IPR + n, 1, prio)


# -- priorities -------------------------------------------------------------------------------
def test_priority_bytes_keep_only_the_implemented_high_bits():
    s, m0 = v7m(priority_bits=4), v6m()
    s.write(IPR + 5, 1, 0xFF)
    m0.write(IPR + 4, 4, 0xFFFF_FFFF)
    assert s.read(IPR + 5, 1) == 0xF0
    assert s.read(IPR + 4, 4) == 0x0000F000
    assert m0.read(IPR + 4, 4) == 0xC0C0C0C0
    assert v7m(priority_bits=8).priority_mask == 0xFF


def test_shpr_bytes_map_to_system_handlers_and_v6m_has_no_shpr1():
    s, m0 = v7m(), v6m()
    s.write(SHPR1, 4, 0x00_30_20_10)  # MemManage, BusFault, UsageFault
    s.write(SHPR2 + 3, 1, 0x80)       # SVCall
    s.write(SHPR3, 4, 0xE0_D0_00_00)  # PendSV, SysTick
    assert [s.priority[e] for e in (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, PENDSV, SYSTICK)] \
        == [0x10, 0x20, 0x30, 0x80, 0xD0, 0xE0]
    assert s.read(SHPR2, 4) == 0x80000000
    m0.write(SHPR1, 4, 0xFFFFFFFF)
    m0.write(SHPR3, 4, 0xFFFFFFFF)
    assert m0.read(SHPR1, 4) == 0 and m0.read(SHPR3, 4) == 0xC0C00000


def test_fixed_priorities_and_the_highest_pending_wins():
    s = v7m()
    for n in (0, 1):
        s.write(ISER, 4, 1 << n)
    set_irq_priority(s, 0, 0x40)
    set_irq_priority(s, 1, 0x20)
    s.set_pending(irq(0))
    s.set_pending(irq(1))
    assert s.pending_to_take(0, 0, 0) == irq(1)
    s.set_pending(HARDFAULT)
    assert s.pending_to_take(0, 0, 0) == HARDFAULT
    s.set_pending(NMI)
    assert s.pending_to_take(0, 0, 0) == NMI
    assert [s.priority[e] for e in (1, NMI, HARDFAULT)] == [-3, -2, -1]


def test_equal_priorities_go_to_the_lowest_exception_number():
    s = v7m()
    s.write(ISER, 4, 0b1100)
    for n in (2, 3):
        set_irq_priority(s, n, 0x30)
    s.set_pending(irq(3))
    s.set_pending(irq(2))
    s.set_pending(PENDSV)
    s.write(SHPR3 + 2, 1, 0x30)  # PendSV at the same priority: exception 14 < 18
    assert s.pending_to_take(0, 0, 0) == PENDSV
    s.clear_pending(PENDSV)
    assert s.pending_to_take(0, 0, 0) == irq(2)


@pytest.mark.parametrize("prigroup,preempts", [(0, True), (3, True), (4, True), (5, False),
                                               (7, False)])
def test_prigroup_splits_group_and_subpriority(prigroup, preempts):
    # 0x40 vs 0x60 differ in bit 5: a group difference up to PRIGROUP 4, a subpriority
    # difference from PRIGROUP 5 on (group = bits [7:6]); PRIGROUP 7: no group bits at all.
    s = v7m(priority_bits=4)
    s.write(AIRCR, 4, KEY | prigroup << 8)
    assert s.read(AIRCR, 4) == 0xFA050000 | prigroup << 8
    s.write(ISER, 4, 0b11)
    set_irq_priority(s, 0, 0x60)
    set_irq_priority(s, 1, 0x40)
    s.set_pending(irq(0))
    s.activate(irq(0))
    s.set_pending(irq(1))
    assert s.execution_priority(0, 0, 0) == s.group_priority(0x60)
    assert (s.pending_to_take(0, 0, 0) == irq(1)) is preempts


def test_subpriority_orders_pending_ones_of_one_group():
    s = v7m(priority_bits=4)
    s.write(AIRCR, 4, KEY | 6 << 8)  # group bit 7 only
    s.write(ISER, 4, 0b11)
    set_irq_priority(s, 0, 0x30)
    set_irq_priority(s, 1, 0x10)
    s.set_pending(irq(0))
    s.set_pending(irq(1))
    assert s.pending_to_take(0, 0, 0) == irq(1)  # same group 0: subpriority 0x10 first


def test_masks_primask_basepri_faultmask():
    s = v7m(priority_bits=4)
    s.write(ISER, 4, 1)
    set_irq_priority(s, 0, 0x40)
    s.set_pending(irq(0))
    assert s.pending_to_take(1, 0, 0) is None            # PRIMASK: only NMI and HardFault
    assert s.pending_to_take(0, 0x40, 0) is None         # BASEPRI at its priority masks it
    assert s.pending_to_take(0, 0x50, 0) == irq(0)       # ... one level lower does not
    assert s.pending_to_take(0, 0x4F, 0) is None         # unimplemented bits read as zero
    s.set_pending(HARDFAULT)
    assert s.pending_to_take(1, 0, 0) == HARDFAULT
    assert s.pending_to_take(0, 0, 1) is None            # FAULTMASK: only NMI
    s.set_pending(NMI)
    assert s.pending_to_take(0, 0, 1) == NMI
    assert s.execution_priority(0, 0, 0) == 256
    assert s.execution_priority(1, 0x40, 0) == 0
    assert s.execution_priority(0, 0x40, 1) == -1


def test_basepri_uses_its_group_priority():
    s = v7m(priority_bits=4)
    s.write(AIRCR, 4, KEY | 5 << 8)  # group bits [7:6]
    assert s.execution_priority(0, 0x70, 0) == 0x40


def test_v6m_has_primask_only():
    s = v6m()
    s.write(ISER, 4, 1)
    s.write(IPR, 4, 0x40)
    s.set_pending(irq(0))
    assert s.pending_to_take(0, 0x40, 1) == irq(0)  # BASEPRI, FAULTMASK: not on ARMv6-M
    assert s.pending_to_take(1, 0, 0) is None


def test_disabled_irqs_stay_pending_but_are_not_taken():
    s = v7m()
    s.set_pending(irq(4))
    assert s.pending_to_take(0, 0, 0) is None
    assert s.read(ICSR, 4) >> 12 & 0x1FF == 0      # VECTPENDING: enabled ones only
    assert s.read(ICSR, 4) & 1 << 22               # ISRPENDING: any IRQ pending
    s.changed = False
    s.write(ISER, 4, 1 << 4)
    assert s.changed
    assert s.pending_to_take(0, 0, 0) == irq(4)


def test_active_exceptions_raise_the_execution_priority_and_return_lowers_it():
    s = v7m()
    s.write(ISER, 4, 0b11)
    set_irq_priority(s, 0, 0x80)
    set_irq_priority(s, 1, 0x80)
    s.set_pending(irq(0))
    s.activate(irq(0))
    s.set_pending(irq(1))
    assert s.pending_to_take(0, 0, 0) is None  # same priority: no preemption
    assert s.active_exceptions() == [irq(0)] and s.current_exception() == irq(0)
    s.changed = False
    s.deactivate(irq(0))
    assert s.changed and s.pending_to_take(0, 0, 0) == irq(1)


def test_fault_handlers_are_enabled_by_shcsr():
    s = v7m()
    assert not s.is_enabled(USAGEFAULT)
    s.write(SHCSR, 4, 1 << 18 | 1 << 16)
    assert s.is_enabled(USAGEFAULT) and s.is_enabled(MEMMANAGE) and not s.is_enabled(BUSFAULT)
    s.set_pending(USAGEFAULT)
    s.activate(USAGEFAULT)
    s.set_pending(SVCALL)
    assert s.read(SHCSR, 4) == 1 << 18 | 1 << 16 | 1 << 3 | 1 << 15


# -- NVIC registers ---------------------------------------------------------------------------
def test_set_and_clear_registers_act_per_one_bit_and_read_the_state():
    s = v7m()
    s.write(ISER + 4, 4, 0x8000_0001)  # IRQ 32 and 63
    s.write(ISER + 4, 4, 0x0000_0002)  # a second write adds, zeros change nothing
    assert s.read(ISER + 4, 4) == s.read(ICER + 4, 4) == 0x8000_0003
    s.write(ICER + 4, 4, 0x1)
    assert s.read(ISER + 4, 4) == 0x8000_0002
    s.write(ISPR, 1, 0x10)              # a byte access: IRQ 4 only
    s.write(ISPR + 1, 1, 0x01)          # IRQ 8
    assert s.read(ISPR, 4) == s.read(ICPR, 4) == 0x110
    s.write(ICPR, 4, 0x10)
    assert s.read(ISPR, 4) == 0x100 and s.is_pending(irq(8)) and not s.is_pending(irq(4))


def test_bits_of_missing_irqs_read_as_zero():
    s = ExceptionState(NvicConfig(irqs=43))
    s.write(ISER, 4, 0xFFFFFFFF)
    s.write(ISER + 4, 4, 0xFFFFFFFF)
    s.write(ISER + 8, 4, 0xFFFFFFFF)
    assert [s.read(ISER + 4 * i, 4) for i in range(3)] == [0xFFFFFFFF, 0x7FF, 0]
    assert s.read(ICTR, 4) == 1  # INTLINESNUM: 32-line blocks minus one
    assert ExceptionState(NvicConfig(irqs=97)).read(ICTR, 4) == 3


def test_iabr_reads_active_irqs_and_ignores_writes():
    s = v7m()
    s.activate(irq(33))
    s.write(IABR + 4, 4, 0xFFFFFFFF)
    assert s.read(IABR + 4, 4) == 0x2 and s.read(IABR, 4) == 0
    assert v6m().read(IABR, 4) == 0


def test_stir_pends_an_irq_on_v7m_only():
    s, m0 = v7m(), v6m()
    s.write(STIR, 4, 37)
    m0.write(STIR, 4, 3)
    assert s.is_pending(irq(37)) and s.read(STIR, 4) == 0
    assert not m0.is_pending(irq(3))


# -- SCB registers ----------------------------------------------------------------------------
def test_icsr_set_and_clear_bits_and_read_back():
    s = v7m()
    s.write(ICSR, 4, 1 << 28 | 1 << 26)  # PENDSVSET, PENDSTSET
    value = s.read(ICSR, 4)
    assert value & (1 << 28 | 1 << 26) == 1 << 28 | 1 << 26
    assert value >> 12 & 0x1FF == PENDSV  # same priority 0: exception 14 before 15
    s.write(ICSR, 4, 1 << 27)             # PENDSVCLR
    assert not s.is_pending(PENDSV) and s.read(ICSR, 4) >> 12 & 0x1FF == SYSTICK
    s.write(ICSR, 4, 1 << 25)             # PENDSTCLR
    s.write(ICSR, 4, 1 << 31)             # NMIPENDSET
    assert s.read(ICSR, 4) & 0xFFFFF000 == 1 << 31 | NMI << 12


def test_icsr_vectactive_and_rettobase():
    s = v7m()
    assert s.read(ICSR, 4) & 0xFFF == 1 << 11  # Thread mode: nothing active
    s.activate(irq(1))
    assert s.read(ICSR, 4) & 0xFFF == 1 << 11 | irq(1)
    s.activate(SVCALL)
    assert s.read(ICSR, 4) & 0xFFF == SVCALL   # a preempted exception: RETTOBASE = 0
    assert v6m().read(ICSR, 4) & 1 << 11 == 0   # no RETTOBASE on ARMv6-M


def test_aircr_needs_its_key_and_requests_a_reset():
    resets: list[int] = []
    s = ExceptionState(NvicConfig(), request_reset=lambda: resets.append(1))
    s.write(AIRCR, 4, 0x0300)                  # no key: ignored
    assert s.read(AIRCR, 4) == 0xFA050000 and not resets
    s.write(AIRCR, 4, KEY | 0x0300 | 1 << 2)
    assert s.prigroup == 3 and resets == [1]
    assert s.read(AIRCR, 4) == 0xFA050300      # SYSRESETREQ reads as zero


def test_fault_status_registers_are_write_one_to_clear():
    s = v7m()
    s.record_fault(cfsr=CFSR_PRECISERR | CFSR_BFARVALID | CFSR_DIVBYZERO | CFSR_UNALIGNED,
                   hfsr=HFSR_FORCED, bfar=0x40000004)
    assert s.read(CFSR, 4) == CFSR_PRECISERR | CFSR_BFARVALID | CFSR_DIVBYZERO | CFSR_UNALIGNED
    assert s.read(BFAR, 4) == 0x40000004 and s.read(HFSR, 4) == HFSR_FORCED
    s.write(CFSR + 3, 1, CFSR_DIVBYZERO >> 24)  # a byte write to UFSR's high byte
    assert s.read(CFSR, 4) == CFSR_PRECISERR | CFSR_BFARVALID | CFSR_UNALIGNED
    s.write(CFSR, 4, 0)                         # writing zeros clears nothing
    s.write(HFSR, 4, HFSR_FORCED)
    assert s.read(HFSR, 4) == 0 and s.read(CFSR, 2) == CFSR_PRECISERR | CFSR_BFARVALID
    s.write(MMFAR, 4, 0x1234)
    assert s.read(MMFAR, 4) == 0x1234
    m0 = v6m()
    m0.record_fault(cfsr=CFSR_DIVBYZERO)
    assert m0.read(CFSR, 4) == 0


@pytest.mark.parametrize("board,reset,written,read_back", [
    ("nucleo-f446re", 0x200, 0x010, 0x010),      # STKALIGN and DIV_0_TRP both writable
    ("nucleo-f746zg", 0x40200, 0x010, 0x40210),  # STKALIGN and BP read as one on the M7
    ("nucleo-g071rb", 0x208, 0x010, 0x208),      # read-only on ARMv6-M
])
def test_ccr_reset_and_writable_bits_per_core(board, reset, written, read_back):
    s = ExceptionState(NvicConfig.for_board(load_board(board)))
    assert s.read(CCR, 4) == reset
    s.write(CCR, 4, written)
    assert s.read(CCR, 4) == read_back
    assert s.div_0_trap is bool(read_back & 0x10)
    seen: list[int] = []
    s.ccr_watchers.append(seen.append)
    s.write(CCR, 4, 0)
    assert seen == [s.read(CCR, 4)] == [reset & ~s.config.ccr_writable]
    assert s.stkalign is bool(read_back & 0x200)


def test_vtor_scr_and_unaligned_partial_writes():
    s = v7m()
    s.write(VTOR, 4, 0x0800_41FF)
    assert s.read(VTOR, 4) == 0x0800_4180 and s.vector_table() == 0x0800_4180
    s.write(VTOR + 2, 2, 0x2000)               # a halfword write keeps the low half
    assert s.read(VTOR, 4) == 0x2000_4180
    s.write(SCR, 4, 0xFF)
    assert s.read(SCR, 4) == 0x16 and s.sleep_on_exit
    s.set_pending(irq(0))
    assert s.wake_event                        # SEVONPEND


def test_cortex_m0_has_no_vtor():
    from dataclasses import replace
    board = load_board("nucleo-g071rb")
    m0 = replace(board, core=load_core("cortex-m0"), boot_address=0x08000000)
    for spec, vtor in ((board, 0x08000100), (m0, 0)):
        s = ExceptionState(NvicConfig.for_board(spec))
        s.write(VTOR, 4, 0x080001FF)
        assert s.read(VTOR, 4) == s.vector_table() == vtor


def test_board_nvic_data():
    f446, g071, an386 = (load_board(b) for b in ("nucleo-f446re", "nucleo-g071rb",
                                                  "mps2-an386"))
    assert (f446.nvic_priority_bits, f446.nvic_irqs) == (4, 97)
    assert NvicConfig.for_board(g071).priority_bits == 2
    assert ExceptionState(NvicConfig.for_board(an386)).priority_mask == 0xFF


def test_fpccr_resets_to_lazy_stacking_on_fpu_boards():
    from mcusim.sim.devices.peripherals import CorePeripherals, UnknownAccessLog
    for name, fpccr in (("nucleo-f446re", 0xC0000000), ("nucleo-g071rb", 0)):
        board = load_board(name)
        log = UnknownAccessLog()
        cp = CorePeripherals(board.core, board, lambda: 0, lambda: None, log)
        assert cp.read(0xE000EF34, 4) == fpccr == cp.fpccr
        cp.write(0xE000EF34, 4, 0x40000000)
        assert cp.fpccr == 0x40000000
        assert cp.read(0xE000ED04, 4) == (0 if board.core.is_v6m else 1 << 11)  # RETTOBASE


# -- sources ----------------------------------------------------------------------------------
class Clock:
    def __init__(self) -> None:
        self.t = 0

    def __call__(self) -> int:
        return self.t


def systick(state: ExceptionState, clock: Clock, rvr: int, csr: int) -> SysTick:
    st = SysTick(clock, state)
    state.add_source(st)
    st.write_word(0xE000E014, rvr)
    st.write_word(0xE000E018, 0)
    st.write_word(0xE000E010, csr)
    return st


@pytest.mark.parametrize("csr,divider", [(7, 1), (3, 8)])
def test_systick_event_is_the_cycle_the_counter_reaches_zero(csr, divider):
    s, clock = v7m(), Clock()
    clock.t = 50
    st = systick(s, clock, 99, csr)
    first = s.next_event_cycle()
    assert first == 50 + 99 * divider
    clock.t = first - 1
    assert st.current() == (1, False)
    s.advance(first - 1)
    assert not s.is_pending(SYSTICK)
    clock.t = first
    assert st.current()[0] == 0
    s.advance(first)
    assert s.is_pending(SYSTICK)
    assert s.next_event_cycle() == first + 100 * divider  # period RVR + 1
    clock.t = first + 100 * divider
    assert st.current()[0] == 0


def test_systick_without_tickint_pends_nothing_but_counts():
    s, clock = v7m(), Clock()
    st = systick(s, clock, 9, 5)  # ENABLE | CLKSOURCE
    assert s.next_event_cycle() is None
    clock.t = 25
    s.advance(25)
    assert not s.pending and st.read_word(0xE000E010) & 1 << 16  # COUNTFLAG


def test_systick_wrap_not_yet_seen_survives_a_csr_read():
    s, clock = v7m(), Clock()
    st = systick(s, clock, 9, 7)
    clock.t = 12  # wrapped at 9, nobody advanced yet; the COUNTFLAG read restarts the count
    assert st.read_word(0xE000E010) & 1 << 16
    assert s.next_event_cycle() == 9
    s.advance(12)
    assert s.is_pending(SYSTICK) and s.next_event_cycle() == 19


def test_scheduled_interrupts_once_and_periodic():
    s = v7m()
    s.add_source(ScheduledInterrupts(s, [(3, 100, None), (5, 40, 50)]))
    assert s.next_event_cycle() == 40
    s.advance(95)
    assert s.is_pending(irq(5)) and not s.is_pending(irq(3)) and s.next_event_cycle() == 100
    s.clear_pending(irq(5))
    s.advance(100)
    assert s.is_pending(irq(3)) and not s.is_pending(irq(5))
    assert s.next_event_cycle() == 140
    s.advance(400)  # edges at 140..390 while nothing looked: one pending bit, next at 440
    assert s.next_event_cycle() == 440
    with pytest.raises(ValueError, match="64 IRQ lines"):
        ScheduledInterrupts(s, [(64, 1, None)])


def test_board_timer_table(tmp_path):
    board = tmp_path / "b.toml"
    board.write_text('[board]\nname = "t"\nsoc = "stm32g071rb"\nclock = "16MHz"\n'
                     "[[interrupts.timer]]\nirq = 3\nperiod_cycles = 1000\n"
                     "[[interrupts.timer]]\nirq = 4\nperiod_cycles = 500\nfirst_cycle = 7\n")
    timers = load_board(str(board)).interrupt_timers
    assert [(t.irq, t.period_cycles, t.first_cycle) for t in timers] == [(3, 1000, 1000),
                                                                       (4, 500, 7)]
    board.write_text(board.read_text().replace("irq = 3", "irq = 32"))
    with pytest.raises(BoardError, match=r"interrupts\.timer\[0\]\.irq.*32 IRQ lines"):
        load_board(str(board))


# -- --irq ------------------------------------------------------------------------------------
def test_irq_option_parsing():
    assert IrqSchedule.parse("3@10000") == IrqSchedule(3, 10000, None)
    assert IrqSchedule.parse("0x10@0/500") == IrqSchedule(16, 0, 500)
    for bad, words in [("3", "expected N@CYCLES"), ("3@1e4", "expected N@CYCLES"),
                       ("496@1", "not an IRQ number"), ("3@-5", "0 or more"),
                       ("3@5/0", "period must be a positive"), ("a@1", "expected")]:
        with pytest.raises(UsageError, match=words):
            IrqSchedule.parse(bad)


def test_irq_option_errors_exit_with_usage(tmp_path, capsys):
    from tests import asm
    elf = asm.build(tmp_path, "nop\n" + asm.EXIT_OK, cpu="cortex-m0plus")
    assert main(["run", str(elf), "--board", "nucleo-g071rb", "--irq", "3@x"]) \
        == ExitCode.USAGE
    assert "--irq '3@x': expected N@CYCLES" in capsys.readouterr().err
    assert main(["run", str(elf), "--board", "nucleo-g071rb", "--irq", "32@10"]) \
        == ExitCode.USAGE
    assert "has 32 IRQ lines (0 to 31" in capsys.readouterr().err
    assert main(["run", str(elf), "--board", "nucleo-g071rb", "--irq", "31@10/10"]) == 0


# -- through the simulator's memory map ------------------------------------------------------
NVIC_PROGRAM = """
    ldr r0, =0xE000E100      @ ISER0: enable IRQ 0 and 3
    movs r1, #9
    str r1, [r0]
    ldr r2, [r0]
    ldr r0, =0xE000E180      @ ICER0: disable IRQ 0
    movs r1, #1
    str r1, [r0]
    ldr r3, [r0]
    ldr r0, =0xE000E400      @ IPR0: IRQ 3's byte
    ldr r1, =0xFF000000
    str r1, [r0]
    ldr r4, [r0]
    ldr r0, =0xE000E200      @ ISPR0: pend IRQ 5, which is disabled (so it is not taken)
    movs r1, #0x20
    str r1, [r0]
    ldr r0, =0xE000ED04      @ ICSR
    ldr r5, [r0]
    ldr r0, =0x20001000
    str r2, [r0]
    str r3, [r0, #4]
    str r4, [r0, #8]
    str r5, [r0, #12]
"""


@pytest.mark.parametrize("board,cpu,ipr3", [("nucleo-f446re", "cortex-m4", 0xF0000000),
                                            ("nucleo-g071rb", "cortex-m0plus", 0xC0000000)])
def test_registers_through_the_memory_map_are_modelled_not_listed(tmp_path, board, cpu, ipr3):
    from tests import asm
    from tests.conftest import simulate
    run = simulate(asm.build(tmp_path, NVIC_PROGRAM + asm.EXIT_OK, cpu=cpu), board)
    raw = run.sim.read_memory(0x20001000, 16)
    words = [int.from_bytes(raw[i:i + 4], "little") for i in range(0, 16, 4)]
    rettobase = 0 if cpu == "cortex-m0plus" else 1 << 11
    assert words == [9, 8, ipr3, 1 << 22 | rettobase]  # ISRPENDING; nothing active
    assert run.result.unknown_peripheral_accesses == {}
    assert run.sim.core_peripherals.exceptions.is_pending(FIRST_IRQ + 5)




# -- end to end: --irq and board timers enter the handler ---------------------------------------
IRQ_COUNTER = """
    ldr r0, =0xE000E100      @ ISER0: enable IRQ 3
    movs r1, #8
    str r1, [r0]
    ldr r2, =0x20001000
wait:
    ldr r1, [r2]
    cmp r1, #5
    blt wait
""" + """
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
    .thumb_func
irq3:
    ldr r0, =0x20001000      @ count one interrupt
    ldr r1, [r0]
    adds r1, #1
    str r1, [r0]
    bx lr
    .thumb_func
default_handler:
    b default_handler
    .pool
    .section .isr_vector, "a"
    .rept 17
    .word default_handler
    .endr
    .word irq3
    .text
"""


def _irq_run(elf, board, *, interrupts=(), native=None, batched=None, max_cycles=200_000):
    from mcusim.sim.core.firmware import Firmware
    from mcusim.sim.core.options import Limits, RunOptions
    from mcusim.sim.simulation import make_simulation
    options = RunOptions(limits=Limits(max_cycles=max_cycles), interrupts=tuple(interrupts),
                         native=native, batched=batched)
    sim = make_simulation(Firmware.open(elf), board, options)
    starts: list[int] = []
    sim.watch_exceptions(lambda ev: starts.append(sim.cycles - ev.cycles)
                         if ev.kind != "return" else None)
    result = sim.run()
    count = int.from_bytes(sim.read_memory(0x20001000, 4), "little")
    return result, count, starts


@pytest.mark.parametrize("path", [dict(native=False, batched=False), dict(native=False),
                                  dict(native=True)], ids=["blocks", "batched", "native"])
def test_irq_option_enters_the_handler_at_its_cycles(tmp_path, path):
    from mcusim.sim.accounting import native_lib
    from tests import asm
    if path.get("native") and native_lib.load_library() is None:
        pytest.skip(f"native path not loaded here: {native_lib.load_error()}")
    elf = asm.build(tmp_path, IRQ_COUNTER)
    board = load_board("nucleo-f446re", clock="16MHz")
    result, count, starts = _irq_run(elf, board, interrupts=[IrqSchedule(3, 1000, 1000)],
                                     **path)
    assert result.exit_code == 0 and count == 5
    # Taken at the first block start at or after each edge (the wait loop is one short block).
    assert len(starts) == 5
    assert all(1000 * k <= at < 1000 * k + 12 for k, at in enumerate(starts, 1)), starts
    reference, *_ = _irq_run(elf, board, interrupts=[IrqSchedule(3, 1000, 1000)],
                             native=False, batched=False)
    assert result.cycles == reference.cycles


def test_no_source_no_interrupt_and_board_timers_are_one(tmp_path):
    from tests import asm
    elf = asm.build(tmp_path, IRQ_COUNTER)
    board = load_board("nucleo-f446re", clock="16MHz")
    result, count, starts = _irq_run(elf, board, max_cycles=20_000)
    assert count == 0 and not starts and result.exit_code is None
    timed = tmp_path / "timed.toml"
    timed.write_text('[board]\nname = "timed"\nsoc = "stm32f446re"\nclock = "16MHz"\n'
                     "[[interrupts.timer]]\nirq = 3\nperiod_cycles = 1000\n")
    by_board = _irq_run(elf, load_board(str(timed)))
    by_option = _irq_run(elf, board, interrupts=[IrqSchedule(3, 1000, 1000)])
    assert by_board[1] == 5 and by_board[2] == by_option[2]
    assert by_board[0].cycles == by_option[0].cycles


# -- the choice against a reference written from the ARM ARM's pseudocode ---------------------
def _reference_take(bits, prigroup, irqs, active, masks):
    """ExecutionPriority() and the pending choice, written independently of nvic.py."""
    implemented = [(p >> (8 - bits)) << (8 - bits) for p, _, _ in irqs]

    def group(p: int) -> int:
        return (p >> (prigroup + 1)) << (prigroup + 1)

    primask, basepri, faultmask = masks
    basepri = (basepri >> (8 - bits)) << (8 - bits)
    boost = min(group(basepri) if basepri else 256, 0 if primask else 256,
                -1 if faultmask else 256)
    running = min([group(implemented[i]) for i in active] + [256])
    ready = [(implemented[i], FIRST_IRQ + i) for i, (_, on, pend) in enumerate(irqs)
             if on and pend]
    if not ready:
        return None
    prio, number = min(ready)
    return number if group(prio) < min(running, boost) else None


def test_pending_to_take_matches_the_reference():
    from hypothesis import given, settings
    from hypothesis import strategies as hs

    @settings(max_examples=200, deadline=None, derandomize=True)
    @given(bits=hs.integers(3, 8), prigroup=hs.integers(0, 7),
           irqs=hs.lists(hs.tuples(hs.integers(0, 255), hs.booleans(), hs.booleans()),
                         min_size=1, max_size=8),
           active=hs.sets(hs.integers(0, 7), max_size=3),
           masks=hs.tuples(hs.integers(0, 1), hs.integers(0, 255), hs.integers(0, 1)))
    def check(bits, prigroup, irqs, active, masks):
        active = {i for i in active if i < len(irqs)}
        s = ExceptionState(NvicConfig(priority_bits=bits, irqs=8))
        s.write(AIRCR, 4, KEY | prigroup << 8)
        for i, (prio, on, pend) in enumerate(irqs):
            s.write(IPR + i, 1, prio)
            s.write(ISER if on else ICER, 4, 1 << i)
            if i in active:
                s.set_pending(irq(i))
                s.activate(irq(i))
            if pend:
                s.write(ISPR, 4, 1 << i)
        assert s.pending_to_take(*masks) == _reference_take(bits, prigroup, irqs, active, masks)

    check()
