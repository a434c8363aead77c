"""Exception frames and core-register mode switches on Unicorn (ARMv7-M ARM B1.5.6-B1.5.8
PushStack/PopStack/ExceptionReturn; ARMv6-M the same without FP or the 4-byte alignment choice).

How Unicorn 2.1.4 behaves here was measured (/work/coord/exc-engine-notes.md): writing XPSR
writes IPSR and the IT bits and swaps the banked SPs as the mode changes; CONTROL.SPSEL writes
are ignored in Handler mode; unprivileged Thread mode drops writes to MSP/PSP/CONTROL and reads
them as 0; none of these rebuild QEMU's cached TB flags, a write of APSR_NZCV does. So a mode
switch goes through one fixed sequence (`switch_mode`).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import unicorn.arm_const as arm
from unicorn import Uc, UcError

FRAME_REGS = (arm.UC_ARM_REG_R0, arm.UC_ARM_REG_R1, arm.UC_ARM_REG_R2, arm.UC_ARM_REG_R3,
              arm.UC_ARM_REG_R12, arm.UC_ARM_REG_LR)
FP_REGS = tuple(arm.UC_ARM_REG_S0 + i for i in range(16))
BASIC_FRAME, EXTENDED_FRAME = 0x20, 0x68

XPSR_T = 1 << 24
XPSR_ALIGNED = 1 << 9  # stacked xPSR: the frame was realigned by 4 bytes
XPSR_IT = 0x0600FC00
XPSR_IPSR = 0x1FF
XPSR_APSR = 0xF80F0000  # N Z C V Q and GE[3:0]

CONTROL_NPRIV, CONTROL_SPSEL, CONTROL_FPCA = 1, 2, 4

EXC_RETURN_HANDLER, EXC_RETURN_THREAD_MSP, EXC_RETURN_THREAD_PSP = 0x1, 0x9, 0xD
EXC_RETURN_BASIC_FRAME = 1 << 4  # EXC_RETURN bit 4: 1 = no FP state in the frame


class FrameError(Exception):
    """Stacking or unstacking touched memory that is not there (MSTKERR/STKERR, MUNSTKERR/
    UNSTKERR on the hardware)."""

    def __init__(self, address: int, writing: bool):
        super().__init__(address, writing)
        self.address = address
        self.writing = writing


@dataclass(frozen=True)
class Frame:
    """A stacked exception frame: where it is and what kind."""

    address: int
    stack: str  # "msp" or "psp"
    extended: bool  # holds S0-S15 and FPSCR

    @property
    def size(self) -> int:
        return EXTENDED_FRAME if self.extended else BASIC_FRAME


def exc_return_value(handler_mode: bool, on_psp: bool, extended: bool) -> int:
    """The EXC_RETURN an entry puts in LR (ARMv7-M B1.5.6, ARMv6-M B1.5.6)."""
    low = EXC_RETURN_HANDLER if handler_mode else (
        EXC_RETURN_THREAD_PSP if on_psp else EXC_RETURN_THREAD_MSP)
    return 0xFFFFFFE0 | (0 if extended else EXC_RETURN_BASIC_FRAME) | low


def valid_exc_return(value: int, has_fpu: bool) -> bool:
    """Bits [31:5] all ones, bit 4 clear only with an FPU, bits [3:0] one of 1, 9, D."""
    if value >> 5 != 0x7FFFFFF:
        return False
    if not value & EXC_RETURN_BASIC_FRAME and not has_fpu:
        return False
    return value & 0xF in (EXC_RETURN_HANDLER, EXC_RETURN_THREAD_MSP, EXC_RETURN_THREAD_PSP)


class CoreRegisters:
    """The registers the exception model reads and writes, and the mode-switch sequence."""

    def __init__(self, uc: Uc, has_fpu: bool):
        self.uc = uc
        self.has_fpu = has_fpu

    def read(self, reg: int) -> int:
        return self.uc.reg_read(reg) & 0xFFFFFFFF

    def masks(self, v6m: bool) -> tuple[int, int, int]:
        """PRIMASK, BASEPRI, FAULTMASK (ARMv6-M has PRIMASK only)."""
        primask = self.read(arm.UC_ARM_REG_PRIMASK)
        if v6m:
            return primask, 0, 0
        return primask, self.read(arm.UC_ARM_REG_BASEPRI), self.read(arm.UC_ARM_REG_FAULTMASK)

    def stacks(self) -> tuple[int, int]:
        """(MSP, PSP), read in a privileged mode: unprivileged Thread mode reads them as 0, so
        that mode is left for Handler mode first (the caller switches mode next anyway)."""
        uc = self.uc
        xpsr = self.read(arm.UC_ARM_REG_XPSR)
        if not xpsr & XPSR_IPSR and self.read(arm.UC_ARM_REG_CONTROL) & CONTROL_NPRIV:
            uc.reg_write(arm.UC_ARM_REG_XPSR, (xpsr & ~XPSR_IPSR) | 1)
        return self.read(arm.UC_ARM_REG_MSP), self.read(arm.UC_ARM_REG_PSP)

    def switch_mode(self, msp: int, psp: int, control: int, xpsr: int, pc: int) -> None:
        """Set both stack pointers, CONTROL and xPSR (IPSR: the mode) and continue at `pc`,
        whatever mode the core is in now: through privileged Thread mode, where every one of
        them is writable."""
        uc, w = self.uc, self.uc.reg_write
        now = self.read(arm.UC_ARM_REG_XPSR)
        if not now & XPSR_IPSR:
            w(arm.UC_ARM_REG_XPSR, (now & ~XPSR_IPSR) | 1)  # Handler mode: privileged
        w(arm.UC_ARM_REG_CONTROL, self.read(arm.UC_ARM_REG_CONTROL) & ~CONTROL_NPRIV)
        w(arm.UC_ARM_REG_XPSR, XPSR_T)  # privileged Thread mode
        w(arm.UC_ARM_REG_CONTROL, 0)  # on MSP
        w(arm.UC_ARM_REG_MSP, msp)
        w(arm.UC_ARM_REG_PSP, psp)
        w(arm.UC_ARM_REG_CONTROL, control)  # SPSEL applies in Thread mode
        w(arm.UC_ARM_REG_XPSR, xpsr)
        w(arm.UC_ARM_REG_APSR_NZCV, xpsr)  # rebuilds the TB flags (mode, privilege, FP)
        uc.reg_write(arm.UC_ARM_REG_PC, pc | 1)

    # -- frames ---------------------------------------------------------------------------------
    def push_frame(self, sp: int, stack: str, return_address: int, xpsr: int, extended: bool,
                   stkalign: bool) -> Frame:
        """PushStack: the frame below `sp` (8-byte aligned when CCR.STKALIGN or an FP frame;
        the stacked xPSR bit 9 says a word of padding was added)."""
        force = extended or stkalign
        size = EXTENDED_FRAME if extended else BASIC_FRAME
        realigned = force and bool(sp & 4)
        address = (sp - size) & (0xFFFFFFF8 if force else 0xFFFFFFFC)
        words = [self.read(r) for r in FRAME_REGS]
        words += [return_address & ~1, (xpsr & ~XPSR_ALIGNED) | (XPSR_ALIGNED if realigned else 0)]
        if extended:
            words += [self.read(r) for r in FP_REGS]
            words += [self.read(arm.UC_ARM_REG_FPSCR), 0]
        try:
            self.uc.mem_write(address, struct.pack(f"<{len(words)}I", *words))
        except UcError:
            raise FrameError(address, True) from None
        return Frame(address, stack, extended)

    def pop_frame(self, frame: Frame, stkalign: bool) -> tuple[int, int, int]:
        """PopStack: restores R0-R3, R12, LR (and S0-S15, FPSCR); returns (return address,
        stacked xPSR, SP after the frame)."""
        try:
            data = bytes(self.uc.mem_read(frame.address, frame.size))
        except UcError:
            raise FrameError(frame.address, False) from None
        words = struct.unpack(f"<{frame.size // 4}I", data)
        for reg, value in zip(FRAME_REGS, words[:6], strict=True):
            self.uc.reg_write(reg, value)
        if frame.extended:
            for reg, value in zip(FP_REGS, words[8:24], strict=True):
                self.uc.reg_write(reg, value)
            self.uc.reg_write(arm.UC_ARM_REG_FPSCR, words[24])
        xpsr = words[7]
        force = frame.extended or stkalign
        sp = (frame.address + frame.size) | (4 if force and xpsr & XPSR_ALIGNED else 0)
        return words[6], xpsr, sp & 0xFFFFFFFF
