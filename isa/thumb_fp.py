"""The floating-point loads, stores and moves of the table-driven Thumb classifier
(isa/thumb_table.py says what it is for and how it is checked): VLDR/VSTR of an S or D
register and VMOV between core registers and an S register or a D register, what compiled code
with doubles passed through the stack and the integer registers is made of. They classify as
isa/capstone_classify.py's _classify_fp does (vldr, vstr, vmov_core, vmov_core2), with
capstone's register ids for S0-S31 and D0-D31. Everything else of the FPU goes to capstone
(None). isa/native/thumb_fp.c makes the same decisions in C."""

from __future__ import annotations

from mcusim.isa.classify import InsnInfo
from mcusim.isa.thumb_fields import CPSR, EMPTY, NAME, REG, imm, regs

S0, D0 = 79, 14  # capstone's ARM_REG_S0 and ARM_REG_D0 (S0-S31, D0-D31 consecutive)


def _fp_register(double: int, number: int, extra: int) -> tuple[int, str]:
    """Capstone's id and the name of D(extra:number) or S(number:extra)."""
    if double:
        n = extra << 4 | number
        return D0 + n, f"d{n}"
    n = number << 1 | extra
    return S0 + n, f"s{n}"


def load_store_fp(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """VLDR/VSTR Sd/Dd, [Rn{, #+/-imm8*4}]: 1110 1101 U D 0 L Rn, Vd 101 sz imm8."""
    rn = hw1 & 0xF
    value = (hw2 & 0xFF) * 4
    up = hw1 & 0x80
    store = not hw1 & 0x10
    if hw2 & 0x0E00 != 0x0A00 or (not up and not value) or (store and rn == 15):
        return None  # (other coprocessors; "#-0"; UNPREDICTABLE)
    reg, name = _fp_register(hw2 & 0x100, hw2 >> 12, hw1 >> 6 & 1)
    disp = value if up else -value
    offset = f", {imm(disp)}" if disp else ""
    n = REG[rn]
    if not store:
        return InsnInfo(address, 4, f"vldr {name}, [{NAME[rn]}{offset}]", "vldr",
                        reads=regs(n), writes=regs(reg), dest=reg, mem_base=n, disp=disp,
                        span=8)
    return InsnInfo(address, 4, f"vstr {name}, [{NAME[rn]}{offset}]", "vstr",
                    reads=regs(n, reg), writes=EMPTY, mem_base=n, disp=disp, span=8)


def move_fp(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """VMOV Sn, Rt / VMOV Rt, Sn (1110 1110 000 op Vn, Rt 1010 N 001 0000) and VMOV Dm, Rt,
    Rt2 / VMOV Rt, Rt2, Dm (1110 1100 010 op Rt2, Rt 1011 00 M 1 Vm)."""
    rt = hw2 >> 12
    if rt in (13, 15):
        return None
    t = REG[rt]
    to_core = hw1 & 0x10
    if hw1 & 0xFFE0 == 0xEE00:
        if hw2 & 0x0F7F != 0x0A10:
            return None
        reg, name = _fp_register(0, hw1 & 0xF, hw2 >> 7 & 1)
        if to_core:
            return InsnInfo(address, 4, f"vmov {NAME[rt]}, {name}", "vmov_core",
                            reads=regs(reg), writes=regs(t), dest=t)
        return InsnInfo(address, 4, f"vmov {name}, {NAME[rt]}", "vmov_core", reads=regs(t),
                        writes=regs(reg), dest=reg)
    rt2 = hw1 & 0xF
    if hw2 & 0x0FD0 != 0x0B10 or rt2 in (13, 15) or (to_core and rt == rt2):
        return None  # (the S-pair form; UNPREDICTABLE)
    reg, name = _fp_register(1, hw2 & 0xF, hw2 >> 5 & 1)
    t2 = REG[rt2]
    if to_core:
        return InsnInfo(address, 4, f"vmov {NAME[rt]}, {NAME[rt2]}, {name}", "vmov_core2",
                        reads=regs(reg), writes=regs(t, t2), dest=t)
    return InsnInfo(address, 4, f"vmov {name}, {NAME[rt]}, {NAME[rt2]}", "vmov_core2",
                    reads=regs(t, t2), writes=regs(reg), dest=reg)


def load_store_multiple_fp(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """VLDMIA/VSTMIA Rn{!}, VLDMDB/VSTMDB Rn!, and VPUSH/VPOP, of S or D registers: 1110 110
    P U D W L Rn, Vd 101 sz imm8 (capstone: the list registers are not among an LDM's reads or
    writes, but VPUSH/VPOP list only them)."""
    rn, load, writeback = hw1 & 0xF, hw1 & 0x10, bool(hw1 & 0x20)
    increment = hw1 & 0xFF80 == 0xEC80
    double, words = hw2 & 0x100, hw2 & 0xFF
    first = (hw2 >> 12) | (hw1 >> 6 & 1) << 4 if double else (hw2 >> 12) << 1 | (hw1 >> 6 & 1)
    count = words // 2 if double else words
    if (hw2 & 0x0E00 != 0x0A00 or not (increment or writeback) or rn == 15 or not count
            or (double and (words & 1 or count > 16)) or first + count > 32):
        return None  # (other coprocessors; FLDMX; UNPREDICTABLE)
    names = [f"{'d' if double else 's'}{first + k}" for k in range(count)]
    ids = [(D0 if double else S0) + first + k for k in range(count)]
    cls = "vldm" if load else "vstm"
    if rn == 13 and writeback and (hw1 & 0xFFB0) in (0xECB0, 0xED20) and increment == bool(load):
        # VPOP (LDMIA SP!) and VPUSH (STMDB SP!)
        fp = regs(*ids)
        return InsnInfo(address, 4, f"{'vpop' if load else 'vpush'} {{{', '.join(names)}}}", cls,
                        nregs=words, reads=fp, writes=fp, dest=ids[0],
                        sp_delta=4 * words if load else -4 * words)
    if rn == 13:
        return None  # (SP otherwise: capstone's SP change is not a constant)
    n = REG[rn]
    text = (f"{cls}{'ia' if increment else 'db'} {NAME[rn]}{'!' if writeback else ''}, "
            f"{{{', '.join(names)}}}")
    return InsnInfo(address, 4, text, cls, nregs=words, reads=regs(n),
                    writes=regs(n) if writeback else EMPTY, dest=n if writeback else 0,
                    writeback=writeback)


# The VFP data-processing operations by opc1 (hw1 bits 7, 5, 4) and op (hw2 bit 6): name and
# class (isa/capstone_classify.py _classify_fp).
_ARITHMETIC = {(0x00, 0): ("vmla", "vfp_mac"), (0x00, 1): ("vmls", "vfp_mac"),
               (0x10, 0): ("vnmls", "vfp_mac"), (0x10, 1): ("vnmla", "vfp_mac"),
               (0x20, 0): ("vmul", "vfp_alu"), (0x20, 1): ("vnmul", "vfp_alu"),
               (0x30, 0): ("vadd", "vfp_alu"), (0x30, 1): ("vsub", "vfp_alu"),
               (0x80, 0): ("vdiv", "vfp_div"), (0xA0, 0): ("vfma", "vfp_mac"),
               (0xA0, 1): ("vfms", "vfp_mac"), (0x90, 0): ("vfnms", "vfp_mac"),
               (0x90, 1): ("vfnma", "vfp_mac")}


def arithmetic_fp(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """VADD/VSUB/VMUL/VNMUL/VDIV and the multiply-accumulates (VMLA, VFMA, ...; they read
    their accumulator Sd too) .F32/.F64 Sd, Sn, Sm: 1110 1110 opc1 Vn, Vd 101 sz N op M 0 Vm."""
    entry = _ARITHMETIC.get((hw1 & 0xB0, hw2 >> 6 & 1))
    if entry is None or hw2 & 0x0E10 != 0x0A00:
        return None
    double = hw2 & 0x100
    d, d_name = _fp_register(double, hw2 >> 12, hw1 >> 6 & 1)
    n, n_name = _fp_register(double, hw1 & 0xF, hw2 >> 7 & 1)
    m, m_name = _fp_register(double, hw2 & 0xF, hw2 >> 5 & 1)
    name, cls = entry
    text = f"{name}.{'f64' if double else 'f32'} {d_name}, {n_name}, {m_name}"
    reads = regs(d, n, m) if cls == "vfp_mac" else regs(n, m)
    return InsnInfo(address, 4, text, cls, reads=reads, writes=regs(d), dest=d)


FPSCR, FPSCR_NZCV = 6, 7  # capstone's ARM_REG_FPSCR, ARM_REG_FPSCR_NZCV


def _vfp_immediate(imm8: int) -> float:
    """VFPExpandImm: (-1)^a * (1 + efgh/16) * 2^(b ? cd - 3 : cd + 1) for imm8 abcdefgh."""
    exponent = (imm8 >> 4 & 3) - 3 if imm8 & 0x40 else (imm8 >> 4 & 3) + 1
    value = (1 + (imm8 & 0xF) / 16) * 2.0 ** exponent
    return -value if imm8 & 0x80 else value


# The single-precision "other" operations (1110 1110 1D11 opc2, Vd 101 0 o3 1 M 0 Vm) by opc2
# and o3: their name (isa/capstone_classify.py _classify_fp: all vfp_alu but VSQRT).
_OTHER = {(0, 0): "vmov.f32", (0, 1): "vabs.f32", (1, 0): "vneg.f32", (1, 1): "vsqrt.f32",
          (4, 0): "vcmp.f32", (4, 1): "vcmpe.f32", (5, 0): "vcmp.f32", (5, 1): "vcmpe.f32",
          (8, 0): "vcvt.f32.u32", (8, 1): "vcvt.f32.s32", (12, 0): "vcvtr.u32.f32",
          (12, 1): "vcvt.u32.f32", (13, 0): "vcvtr.s32.f32", (13, 1): "vcvt.s32.f32"}


def other_fp(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """VMOV.F32 Sd, #imm and Sd, Sm; VABS/VNEG/VSQRT; VCMP{E} Sd, Sm and Sd, #0 (capstone:
    they write FPSCR's flags, no dest); VCVT{R} between F32 and S32/U32 (the rounding one
    reads FPSCR). Single precision only."""
    if hw2 & 0x0F10 != 0x0A00:
        return None  # (double precision; other coprocessors)
    d, d_name = _fp_register(0, hw2 >> 12, hw1 >> 6 & 1)
    if not hw2 & 0x40:  # VMOV.F32 Sd, #imm: 1110 1110 1D11 imm4H, Vd 1010 0000 imm4L
        if hw2 & 0xA0:
            return None
        value = _vfp_immediate((hw1 & 0xF) << 4 | hw2 & 0xF)
        return InsnInfo(address, 4, f"vmov.f32 {d_name}, #{value:e}", "vfp_alu",
                        writes=regs(d), dest=d)
    opc2 = hw1 & 0xF
    name = _OTHER.get((opc2, hw2 >> 7 & 1))
    if name is None:
        return None
    if opc2 == 5:  # VCMP{E} Sd, #0
        if hw2 & 0x2F:
            return None
        return InsnInfo(address, 4, f"{name} {d_name}, #0", "vfp_alu", reads=regs(d),
                        writes=regs(FPSCR_NZCV))
    m, m_name = _fp_register(0, hw2 & 0xF, hw2 >> 5 & 1)
    text = f"{name} {d_name}, {m_name}"
    if opc2 == 4:
        return InsnInfo(address, 4, text, "vfp_alu", reads=regs(d, m), writes=regs(FPSCR_NZCV))
    reads = regs(m, FPSCR) if name.startswith("vcvtr") else regs(m)
    return InsnInfo(address, 4, text, "vfp_sqrt" if opc2 == 1 and hw2 & 0x80 else "vfp_alu",
                    reads=reads, writes=regs(d), dest=d)


def fpscr_move(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """VMRS Rt, FPSCR / VMRS APSR_nzcv, FPSCR (Rt PC) and VMSR FPSCR, Rt: 1110 1110 111L
    0001, Rt 1010 0001 0000 (capstone: VMSR lists no register read)."""
    rt = hw2 >> 12
    if hw2 & 0x0FFF != 0x0A10 or rt == 13:
        return None
    if hw1 == 0xEEE1:
        if rt == 15:
            return None
        return InsnInfo(address, 4, f"vmsr fpscr, {NAME[rt]}", "vmrs", writes=regs(FPSCR),
                        dest=FPSCR)
    if rt == 15:
        return InsnInfo(address, 4, "vmrs apsr_nzcv, fpscr", "vfp_alu",
                        reads=regs(FPSCR_NZCV), writes=regs(CPSR))
    t = REG[rt]
    return InsnInfo(address, 4, f"vmrs {NAME[rt]}, fpscr", "vmrs", reads=regs(FPSCR),
                    writes=regs(t), dest=t)
