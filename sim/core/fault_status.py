"""What a fault sets in the fault status registers (ARMv7-M ARM B3.2.15-B3.2.18: CFSR, HFSR,
MMFAR, BFAR; DFSR C1.6.1) and how the stop report spells them out. ARMv6-M has only HardFault
and no fault status registers (ARMv6-M ARM B3.2).

No Unicorn in here: sim/core/fault_entry.py finds the fault, this module says what it is."""

from __future__ import annotations

from dataclasses import dataclass, replace

from unicorn.unicorn_const import (
    UC_MEM_FETCH,
    UC_MEM_FETCH_PROT,
    UC_MEM_FETCH_UNMAPPED,
)

from mcusim.sim.devices.exc_numbers import (
    BUSFAULT,
    CFSR_BFARVALID,
    CFSR_DACCVIOL,
    CFSR_DIVBYZERO,
    CFSR_IACCVIOL,
    CFSR_IBUSERR,
    CFSR_IMPRECISERR,
    CFSR_INVPC,
    CFSR_INVSTATE,
    CFSR_LSPERR,
    CFSR_MLSPERR,
    CFSR_MMARVALID,
    CFSR_MSTKERR,
    CFSR_MUNSTKERR,
    CFSR_NOCP,
    CFSR_PRECISERR,
    CFSR_STKERR,
    CFSR_UNALIGNED,
    CFSR_UNDEFINSTR,
    CFSR_UNSTKERR,
    HARDFAULT,
    HFSR_DEBUGEVT,
    HFSR_FORCED,
    HFSR_VECTTBL,
    MEMMANAGE,
    USAGEFAULT,
)

DFSR_BKPT = 1 << 1
NAMES = {HARDFAULT: "HardFault", MEMMANAGE: "MemManage", BUSFAULT: "BusFault",
         USAGEFAULT: "UsageFault", 2: "NMI"}
HANDLER_SYMBOLS = {HARDFAULT: "HardFault_Handler", MEMMANAGE: "MemManage_Handler",
                   BUSFAULT: "BusFault_Handler", USAGEFAULT: "UsageFault_Handler"}

_CFSR_BITS = (
    (MEMMANAGE, CFSR_IACCVIOL, "IACCVIOL"), (MEMMANAGE, CFSR_DACCVIOL, "DACCVIOL"),
    (MEMMANAGE, CFSR_MUNSTKERR, "MUNSTKERR"), (MEMMANAGE, CFSR_MSTKERR, "MSTKERR"),
    (MEMMANAGE, CFSR_MLSPERR, "MLSPERR"),
    (BUSFAULT, CFSR_IBUSERR, "IBUSERR"), (BUSFAULT, CFSR_PRECISERR, "PRECISERR"),
    (BUSFAULT, CFSR_IMPRECISERR, "IMPRECISERR"), (BUSFAULT, CFSR_UNSTKERR, "UNSTKERR"),
    (BUSFAULT, CFSR_STKERR, "STKERR"), (BUSFAULT, CFSR_LSPERR, "LSPERR"),
    (USAGEFAULT, CFSR_UNDEFINSTR, "UNDEFINSTR"), (USAGEFAULT, CFSR_INVSTATE, "INVSTATE"),
    (USAGEFAULT, CFSR_INVPC, "INVPC"), (USAGEFAULT, CFSR_NOCP, "NOCP"),
    (USAGEFAULT, CFSR_UNALIGNED, "UNALIGNED"), (USAGEFAULT, CFSR_DIVBYZERO, "DIVBYZERO"),
)
_HFSR_BITS = ((HFSR_VECTTBL, "VECTTBL"), (HFSR_FORCED, "FORCED"), (HFSR_DEBUGEVT, "DEBUGEVT"))

# The default memory map's Execute Never regions (ARMv7-M ARM B3.1, Table B3-1): Peripheral,
# Device and System. A fetch there is a MemManage fault (IACCVIOL) even without an MPU.
_XN = ((0x40000000, 0x60000000), (0xA0000000, 0x100000000))


FETCHES = (UC_MEM_FETCH, UC_MEM_FETCH_UNMAPPED, UC_MEM_FETCH_PROT)


@dataclass(frozen=True)
class Fault:
    """A synchronous fault: the stop kind and message of today's report (sim/core/faults.py),
    the exception it raises, the status bits it sets, and where the handler returns to."""

    kind: str
    message: str
    exception: int
    return_address: int
    cfsr: int = 0
    hfsr: int = 0
    dfsr: int = 0
    mmfar: int | None = None
    bfar: int | None = None

    def escalated(self) -> Fault:
        """The fault as HardFault takes it when its own handler cannot (HFSR.FORCED)."""
        return replace(self, exception=HARDFAULT, hfsr=self.hfsr | HFSR_FORCED)

    def on_v6m(self) -> Fault:
        """ARMv6-M: every fault is a HardFault, and nothing records why."""
        return replace(self, exception=HARDFAULT, cfsr=0, hfsr=0, dfsr=0, mmfar=None,
                       bfar=None)


def memory_fault(kind: str, message: str, access: int, address: int, pc: int) -> Fault:
    """A bad access as Unicorn reports it: a precise data BusFault with BFAR, an instruction
    fetch from no memory (BusFault IBUSERR) or from an Execute Never region (MemManage
    IACCVIOL); the fetch's return address is the address fetched."""
    if access in FETCHES:
        if any(lo <= address < hi for lo, hi in _XN) or access == UC_MEM_FETCH_PROT:
            return Fault(kind, message, MEMMANAGE, address, cfsr=CFSR_IACCVIOL)
        return Fault(kind, message, BUSFAULT, address, cfsr=CFSR_IBUSERR)
    return Fault(kind, message, BUSFAULT, pc, cfsr=CFSR_PRECISERR | CFSR_BFARVALID,
                 bfar=address)


def usage_fault(kind: str, message: str, pc: int, cfsr: int) -> Fault:
    return Fault(kind, message, USAGEFAULT, pc, cfsr=cfsr)


def breakpoint_fault(kind: str, message: str, pc: int) -> Fault:
    """BKPT with no debugger attached: HardFault with HFSR.DEBUGEVT and DFSR.BKPT (Cortex-M3
    TRM, HFSR: "When both halting and monitor debug are disabled, it only happens for debug
    events that are not ignored (minimally, BKPT)"). QEMU 7.2 sets HFSR.FORCED instead."""
    return Fault(kind, message, HARDFAULT, pc, hfsr=HFSR_DEBUGEVT, dfsr=DFSR_BKPT)


def decode(cfsr: int, hfsr: int, mmfar: int, bfar: int) -> str:
    """The status registers as a reader of the ARM ARM would say them, e.g. "CFSR 0x00000200 =
    BusFault PRECISERR, BFAR valid 0x30000000; HFSR 0x40000000 = FORCED"."""
    parts = []
    for exc in (MEMMANAGE, BUSFAULT, USAGEFAULT):
        names = [n for e, bit, n in _CFSR_BITS if e == exc and cfsr & bit]
        if exc == MEMMANAGE and cfsr & CFSR_MMARVALID:
            names.append(f"MMFAR valid {mmfar:#010x}")
        if exc == BUSFAULT and cfsr & CFSR_BFARVALID:
            names.append(f"BFAR valid {bfar:#010x}")
        if names:
            parts.append(f"{NAMES[exc]} {', '.join(names)}")
    text = f"CFSR {cfsr:#010x}" + (f" = {'; '.join(parts)}" if parts else "")
    hf = [n for bit, n in _HFSR_BITS if hfsr & bit]
    return text + f"; HFSR {hfsr:#010x}" + (f" = {', '.join(hf)}" if hf else "")


# QEMU's exception numbers (sim/core/faults.py) that are UsageFaults, with their CFSR bit.
_USAGE_BITS = {1: CFSR_UNDEFINSTR, 18: CFSR_INVSTATE, 17: CFSR_NOCP, 22: CFSR_UNALIGNED,
               4: CFSR_UNALIGNED}  # 4: data abort, what Unicorn raises for an unaligned
# access on ARMv6-M (a HardFault there)
_EXCP_BKPT = 7
_EXCP_PREFETCH_ABORT = 3  # a fetch from memory that cannot be executed (MMIO, XN)


def cpu_exception_fault(intno: int, kind: str, message: str, pc: int) -> Fault | None:
    """The fault of a CPU exception Unicorn raised (UC_HOOK_INTR), None if it is no fault
    (SVC, exception return: the engine's)."""
    if intno in _USAGE_BITS:
        return usage_fault(kind, message, pc, _USAGE_BITS[intno])
    if intno == _EXCP_BKPT:
        return breakpoint_fault(kind, message, pc)
    if intno == _EXCP_PREFETCH_ABORT:
        return memory_fault(kind, message, UC_MEM_FETCH_PROT, pc, pc)
    return None
