"""The SCB registers of `ExceptionState` (sim/devices/nvic.py): ICSR, VTOR, AIRCR, SCR, CCR,
SHCSR and the fault status registers, as the ARMv7-M ARM (B3.2) and the ARMv6-M ARM (B3.2, a
reduced set: no SHPR1, SHCSR only SVCALLPENDED, no fault status registers, CCR read-only)
specify them. SHPR1-3 are byte registers, handled with the IPR in nvic.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcusim.sim.devices.exc_numbers import (
    AFSR,
    AIRCR,
    AIRCR_SYSRESETREQ,
    AIRCR_VECTKEY,
    AIRCR_VECTKEYSTAT,
    BFAR,
    CCR,
    CFSR,
    DFSR,
    FIRST_IRQ,
    HFSR,
    ICSR,
    ICSR_ISRPENDING,
    ICSR_NMIPENDSET,
    ICSR_PENDSTCLR,
    ICSR_PENDSTSET,
    ICSR_PENDSVCLR,
    ICSR_PENDSVSET,
    ICSR_RETTOBASE,
    MMFAR,
    NMI,
    PENDSV,
    SCR,
    SHCSR,
    SHCSR_ACTIVE_SHIFT,
    SHCSR_ENABLE_SHIFT,
    SHCSR_PENDED_SHIFT,
    SVCALL,
    SYSTICK,
    V6M_SHCSR_SVCALLPENDED,
    VTOR,
)

if TYPE_CHECKING:
    from mcusim.sim.devices.nvic import ExceptionState

SCR_WRITABLE = 0x16  # SEVONPEND, SLEEPDEEP, SLEEPONEXIT
V7M_FAULT_REGISTERS = (CFSR, HFSR, DFSR, MMFAR, BFAR, AFSR)


def _vtor_mask(state: ExceptionState) -> int:
    # TBLOFF: bits [31:7] on ARMv7-M (B3.2.5), [31:8] on ARMv6-M with the VTOR option.
    return 0xFFFFFF00 if state.v6m else 0xFFFFFF80


def read_icsr(state: ExceptionState) -> int:
    """VECTPENDING is the highest-priority pending enabled exception whatever the masks (as
    QEMU reads it; the ARMv7-M ARM has BASEPRI and FAULTMASK affect it)."""
    value = state.current_exception() & 0x1FF
    pending = state.highest_pending()
    value |= (pending or 0) << 12
    if any(exc >= FIRST_IRQ for exc in state.pending):
        value |= ICSR_ISRPENDING
    if not state.v6m and len(state.active_stack) <= 1:
        value |= ICSR_RETTOBASE
    for exc, bit in ((NMI, ICSR_NMIPENDSET), (PENDSV, ICSR_PENDSVSET),
                     (SYSTICK, ICSR_PENDSTSET)):
        if state.is_pending(exc):
            value |= bit
    return value


def write_icsr(state: ExceptionState, value: int) -> None:
    if value & ICSR_NMIPENDSET:
        state.set_pending(NMI)
    if value & ICSR_PENDSVSET:
        state.set_pending(PENDSV)
    if value & ICSR_PENDSVCLR:
        state.clear_pending(PENDSV)
    if value & ICSR_PENDSTSET:
        state.set_pending(SYSTICK)
    if value & ICSR_PENDSTCLR:
        state.clear_pending(SYSTICK)


def read_shcsr(state: ExceptionState) -> int:
    if state.v6m:
        return V6M_SHCSR_SVCALLPENDED if state.is_pending(SVCALL) else 0
    value = state.fault_enables
    for exc, shift in SHCSR_ACTIVE_SHIFT.items():
        value |= state.is_active(exc) << shift
    for exc, shift in SHCSR_PENDED_SHIFT.items():
        value |= state.is_pending(exc) << shift
    return value


def write_shcsr(state: ExceptionState, value: int) -> None:
    """Software may write the active and pending bits (an RTOS or debug monitor switching
    context); ARMv6-M has only SVCALLPENDED."""
    pended = SHCSR_PENDED_SHIFT if not state.v6m else {SVCALL: 15}
    for exc, shift in pended.items():
        if value >> shift & 1:
            state.set_pending(exc)
        else:
            state.clear_pending(exc)
    if state.v6m:
        return
    for exc, shift in SHCSR_ACTIVE_SHIFT.items():
        state.set_active(exc, bool(value >> shift & 1))
    for exc, shift in SHCSR_ENABLE_SHIFT.items():
        state.set_enabled(exc, bool(value >> shift & 1))


def read_word(state: ExceptionState, addr: int) -> int:
    if addr == ICSR:
        return read_icsr(state)
    if addr == VTOR:
        return state.vtor
    if addr == AIRCR:
        return AIRCR_VECTKEYSTAT | (0 if state.v6m else state.prigroup << 8)
    if addr == SCR:
        return state.scr
    if addr == CCR:
        return state.ccr
    if addr == SHCSR:
        return read_shcsr(state)
    if state.v6m or addr not in V7M_FAULT_REGISTERS:
        return 0
    return {CFSR: state.cfsr, HFSR: state.hfsr, DFSR: state.dfsr, MMFAR: state.mmfar,
            BFAR: state.bfar, AFSR: state.afsr}[addr]


def write_word(state: ExceptionState, addr: int, value: int) -> None:
    if addr == ICSR:
        write_icsr(state, value)
    elif addr == VTOR:
        if state.config.has_vtor:
            state.vtor = value & _vtor_mask(state)
    elif addr == AIRCR:
        if value >> 16 != AIRCR_VECTKEY:
            return  # writes without the key are ignored
        if not state.v6m:
            state.prigroup = value >> 8 & 7
            state.changed = True
        if value & AIRCR_SYSRESETREQ and state.request_reset is not None:
            state.request_reset()
    elif addr == SCR:
        state.scr = value & SCR_WRITABLE
    elif addr == CCR:
        w = state.config.ccr_writable
        state.ccr = (state.ccr & ~w) | (value & w)
        for watch in state.ccr_watchers:
            watch(state.ccr)
    elif addr == SHCSR:
        write_shcsr(state, value)
    elif state.v6m:
        return
    elif addr == CFSR:
        state.cfsr &= ~value
    elif addr == HFSR:
        state.hfsr &= ~value
    elif addr == DFSR:
        state.dfsr &= ~value
    elif addr == AFSR:
        state.afsr &= ~value
    elif addr == MMFAR:
        state.mmfar = value
    elif addr == BFAR:
        state.bfar = value
