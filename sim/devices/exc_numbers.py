"""Exception numbers, register addresses and bit fields of the NVIC and SCB (ARMv7-M ARM B1.5.2,
B3.2, B3.4; ARMv6-M ARM B1.5.2, B3.2, B3.4), shared by sim/devices/nvic.py and scb.py."""

from __future__ import annotations

RESET, NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 1, 2, 3, 4, 5, 6
SVCALL, DEBUGMONITOR, PENDSV, SYSTICK = 11, 12, 14, 15
FIRST_IRQ = 16
THREAD_PRIORITY = 256  # execution priority of Thread mode with no boost
FIXED_PRIORITIES = {RESET: -3, NMI: -2, HARDFAULT: -1}
# System handlers whose priority is programmable (SHPR1-3), per architecture.
V7M_SYSTEM_PRIORITIES = (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, DEBUGMONITOR, PENDSV, SYSTICK)
V6M_SYSTEM_PRIORITIES = (SVCALL, PENDSV, SYSTICK)
ALWAYS_ENABLED = (NMI, HARDFAULT, SVCALL, PENDSV, SYSTICK)
MAX_IRQS = 496

ICTR = 0xE000E004
NVIC_FIRST = 0xE000E100
NVIC_LAST = 0xE000ECFF  # the NVIC block; what is not implemented in it reads as zero
NVIC_ISER, NVIC_ICER, NVIC_ISPR, NVIC_ICPR = 0xE000E100, 0xE000E180, 0xE000E200, 0xE000E280
NVIC_IABR, NVIC_IPR = 0xE000E300, 0xE000E400
STIR = 0xE000EF00

ICSR, VTOR, AIRCR, SCR, CCR = 0xE000ED04, 0xE000ED08, 0xE000ED0C, 0xE000ED10, 0xE000ED14
SHPR_FIRST, SHPR_LAST = 0xE000ED18, 0xE000ED23  # SHPR1-3, one byte per exception 4..15
SHCSR, CFSR, HFSR, DFSR = 0xE000ED24, 0xE000ED28, 0xE000ED2C, 0xE000ED30
MMFAR, BFAR, AFSR = 0xE000ED34, 0xE000ED38, 0xE000ED3C
SCB_FIRST, SCB_LAST = ICSR, AFSR + 3  # CPUID and CPACR stay in sim/devices/peripherals.py

ICSR_NMIPENDSET = 1 << 31
ICSR_PENDSVSET = 1 << 28
ICSR_PENDSVCLR = 1 << 27
ICSR_PENDSTSET = 1 << 26
ICSR_PENDSTCLR = 1 << 25
ICSR_ISRPENDING = 1 << 22
ICSR_RETTOBASE = 1 << 11
AIRCR_VECTKEY = 0x05FA
AIRCR_VECTKEYSTAT = 0xFA050000
AIRCR_SYSRESETREQ = 1 << 2
SCR_SLEEPONEXIT = 1 << 1
SCR_SLEEPDEEP = 1 << 2
SCR_SEVONPEND = 1 << 4
CCR_UNALIGN_TRP = 1 << 3
CCR_DIV_0_TRP = 1 << 4
CCR_STKALIGN = 1 << 9

# SHCSR (ARMv7-M B3.2.13): bit of each exception's active, pending and enable state.
SHCSR_ACTIVE_SHIFT = {MEMMANAGE: 0, BUSFAULT: 1, USAGEFAULT: 3, SVCALL: 7, DEBUGMONITOR: 8,
                      PENDSV: 10, SYSTICK: 11}
SHCSR_PENDED_SHIFT = {USAGEFAULT: 12, MEMMANAGE: 13, BUSFAULT: 14, SVCALL: 15}
SHCSR_ENABLE_SHIFT = {MEMMANAGE: 16, BUSFAULT: 17, USAGEFAULT: 18}
V6M_SHCSR_SVCALLPENDED = 1 << 15

# CFSR bit fields (ARMv7-M B3.2.15): MMFSR byte 0, BFSR byte 1, UFSR halfword 2.
CFSR_IACCVIOL, CFSR_DACCVIOL, CFSR_MUNSTKERR, CFSR_MSTKERR = 1 << 0, 1 << 1, 1 << 3, 1 << 4
CFSR_MLSPERR, CFSR_MMARVALID = 1 << 5, 1 << 7
CFSR_IBUSERR, CFSR_PRECISERR, CFSR_IMPRECISERR = 1 << 8, 1 << 9, 1 << 10
CFSR_UNSTKERR, CFSR_STKERR, CFSR_LSPERR, CFSR_BFARVALID = 1 << 11, 1 << 12, 1 << 13, 1 << 15
CFSR_UNDEFINSTR, CFSR_INVSTATE, CFSR_INVPC, CFSR_NOCP = 1 << 16, 1 << 17, 1 << 18, 1 << 19
CFSR_UNALIGNED, CFSR_DIVBYZERO = 1 << 24, 1 << 25
HFSR_VECTTBL, HFSR_FORCED, HFSR_DEBUGEVT = 1 << 1, 1 << 30, 1 << 31


def is_write_one(word: int) -> bool:
    """Registers whose writes act per 1 bit (set, clear, pend): a partial write leaves the other
    bits alone instead of writing back what they read."""
    return (NVIC_ISER <= word < NVIC_IABR or word in (ICSR, CFSR, HFSR, DFSR, AFSR, STIR))


def is_priority_byte(addr: int) -> bool:
    """IPR and SHPR1-3 are byte-accessible (ARMv6-M allows only word accesses, UNPREDICTABLE
    otherwise; the byte behaviour is the choice made here, as QEMU does)."""
    return NVIC_IPR <= addr < NVIC_IPR + MAX_IRQS or SHPR_FIRST <= addr <= SHPR_LAST


def priority_exception(addr: int) -> int | None:
    if NVIC_IPR <= addr < NVIC_IPR + MAX_IRQS:
        return FIRST_IRQ + addr - NVIC_IPR
    if SHPR_FIRST <= addr <= SHPR_LAST:
        return addr - 0xE000ED14  # SHPR1 byte 0 is MemManage (4) ... SHPR3 byte 3 SysTick (15)
    return None
