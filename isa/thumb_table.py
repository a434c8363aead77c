"""A table-driven classifier for the most common Thumb encodings, straight from the halfwords.

Capstone with operand details costs tens of microseconds per instruction in Python (a ctypes
detail copy per instruction); the encodings that generated and compiled code consists of
mostly are simple bit fields. For those this gives exactly the `InsnInfo` that isa/classify.py
gets from capstone (its text, registers read and written with capstone's conventions, and
every field the cycle model reads); for any other encoding it gives None and capstone decides.
tests/test_thumb_table.py checks every field against capstone over random encodings of each
form handled here, and over every instruction of the kernels' ELFs and the generated nn code.
Never used inside an IT block (isa/decode.py): those instructions decode with their IT.
"""

from __future__ import annotations

from mcusim.isa.classify import ALWAYS, COND, InsnInfo
from mcusim.isa.thumb_fields import COND as CONDITIONS
from mcusim.isa.thumb_fields import CPSR, EMPTY, NAME, PC, REG, SP, alu, imm, mem, push_pop, regs
from mcusim.isa.thumb_memory import load_store_multiple_narrow
from mcusim.isa.thumb_system import system_narrow
from mcusim.isa.thumb_wide import classify_wide


def classify_at(code: bytes, pos: int, address: int) -> InsnInfo | None:
    """The instruction at code[pos:] (at `address`), if its encoding is one handled here."""
    hw = code[pos] | code[pos + 1] << 8
    top = hw >> 11
    if top >= 0b11101:
        if pos + 3 >= len(code):
            return None
        return classify_wide(hw, code[pos + 2] | code[pos + 3] << 8, address)
    return _narrow(hw, top, address)


def _narrow(hw: int, top: int, address: int) -> InsnInfo | None:
    lo3, mid3 = hw & 7, (hw >> 3) & 7
    if top <= 2:  # LSL/LSR/ASR (immediate)
        imm5 = (hw >> 6) & 31
        d, m = REG[lo3], REG[mid3]
        if top == 0 and imm5 == 0:
            return alu(address, 2, f"movs {NAME[lo3]}, {NAME[mid3]}", regs(m),
                        regs(d, CPSR), d)
        mnemonic = ("lsls", "lsrs", "asrs")[top]
        shift = imm5 if imm5 or top == 0 else 32
        return alu(address, 2, f"{mnemonic} {NAME[lo3]}, {NAME[mid3]}, {imm(shift)}",
                    regs(m), regs(d), d)
    if top == 3:  # ADDS/SUBS (register, 3-bit immediate)
        op = (hw >> 9) & 3
        mnemonic = "subs" if op & 1 else "adds"
        d, n = REG[lo3], REG[mid3]
        field = (hw >> 6) & 7
        if op & 2:
            return alu(address, 2, f"{mnemonic} {NAME[lo3]}, {NAME[mid3]}, {imm(field)}",
                        regs(n), regs(d), d)
        return alu(address, 2,
                    f"{mnemonic} {NAME[lo3]}, {NAME[mid3]}, {NAME[field]}",
                    regs(n, REG[field]), regs(d), d)
    if top <= 7:  # MOVS/CMP/ADDS/SUBS (8-bit immediate)
        rd = (hw >> 8) & 7
        d, value = REG[rd], hw & 0xFF
        if top == 4:
            return alu(address, 2, f"movs {NAME[rd]}, {imm(value)}", EMPTY, regs(d), d)
        if top == 5:
            return alu(address, 2, f"cmp {NAME[rd]}, {imm(value)}", regs(d), regs(CPSR), 0)
        mnemonic = "adds" if top == 6 else "subs"
        return alu(address, 2, f"{mnemonic} {NAME[rd]}, {imm(value)}", regs(d), regs(d), d)
    if top == 8:
        return _register_ops(hw, lo3, mid3, address)
    if top == 9:  # LDR (literal)
        rt, disp = (hw >> 8) & 7, (hw & 0xFF) * 4
        t = REG[rt]
        return InsnInfo(address, 2, f"ldr {NAME[rt]}, [pc, {imm(disp)}]", "ldr",
                        reads=regs(PC), writes=regs(t), load=True, base=PC, dest=t,
                        mem_base=PC, disp=disp, span=8)
    if top in (0b01100, 0b01101, 0b01110, 0b01111, 0b10000, 0b10001):  # [Rn, #imm5]
        load = bool(hw & 0x800)
        imm5 = (hw >> 6) & 31
        if top <= 0b01101:
            kind, disp = "", imm5 * 4
        elif top <= 0b01111:
            kind, disp = "b", imm5
        else:
            kind, disp = "h", imm5 * 2
        offset = f", {imm(disp)}" if disp else ""
        text = f"{'ldr' if load else 'str'}{kind} {NAME[lo3]}, [{NAME[mid3]}{offset}]"
        return mem(address, 2, text, load, lo3, mid3, -1, disp)
    if top in (0b10010, 0b10011):  # LDR/STR [SP, #imm8]
        load = bool(hw & 0x800)
        rt, disp = (hw >> 8) & 7, (hw & 0xFF) * 4
        offset = f", {imm(disp)}" if disp else ""
        text = f"{'ldr' if load else 'str'} {NAME[rt]}, [sp{offset}]"
        return mem(address, 2, text, load, rt, 13, -1, disp)
    if top == 0b01010 or top == 0b01011:  # [Rn, Rm]
        name = ("str", "strh", "strb", "ldrsb", "ldr", "ldrh", "ldrb", "ldrsh")[hw >> 9 & 7]
        rm = (hw >> 6) & 7
        text = f"{name} {NAME[lo3]}, [{NAME[mid3]}, {NAME[rm]}]"
        return mem(address, 2, text, name.startswith("ldr"), lo3, mid3, rm, 0)
    if top == 0b10100:  # ADR Rd, #imm8 (capstone: no register read, the offset printed)
        d = REG[(hw >> 8) & 7]
        return alu(address, 2, f"adr {NAME[(hw >> 8) & 7]}, {imm((hw & 0xFF) * 4)}", EMPTY,
                   regs(d), d)
    if top == 0b10101:  # ADD Rd, SP, #imm8
        d = REG[(hw >> 8) & 7]
        return alu(address, 2, f"add {NAME[(hw >> 8) & 7]}, sp, {imm((hw & 0xFF) * 4)}",
                   regs(SP), regs(d), d)
    if hw & 0xFF00 == 0xB000:  # ADD/SUB SP, SP, #imm7: SP moves by a constant
        delta = (hw & 0x7F) * 4
        info = alu(address, 2, f"{'sub' if hw & 0x80 else 'add'} sp, {imm(delta)}", regs(SP),
                   regs(SP), SP)
        return info._replace(sp_delta=-delta if hw & 0x80 else delta)
    if hw & 0xF500 == 0xB100:  # CBZ/CBNZ
        target = address + 4 + ((hw >> 9 & 1) << 6 | (hw >> 3 & 31) << 1)
        name = "cbnz" if hw & 0x800 else "cbz"
        return InsnInfo(address, 2, f"{name} {NAME[lo3]}, {imm(target)}", "cbz",
                        reads=regs(REG[lo3]), branch=COND, target=target)
    if hw & 0xFE00 in (0xB400, 0xBC00):
        return push_pop(hw & 0x0800 != 0, hw & 0xFF, hw >> 8 & 1, address, 2, "")
    if hw & 0xFF00 in (0xB200, 0xBA00):  # SXTH/SXTB/UXTH/UXTB, REV/REV16/REVSH
        op = hw >> 6 & 3
        name = (("sxth", "sxtb", "uxth", "uxtb") if hw & 0xFF00 == 0xB200
                else ("rev", "rev16", None, "revsh"))[op]
        if name is None:
            return None
        d = REG[lo3]
        return alu(address, 2, f"{name} {NAME[lo3]}, {NAME[mid3]}", regs(REG[mid3]),
                    regs(d), d)
    if top == 0b11000 or top == 0b11001:  # STM Rn!, {list} / LDM Rn{!}, {list}
        return load_store_multiple_narrow(hw, address)
    if top == 0b11100:  # B (unconditional)
        offset = (hw & 0x7FF) << 1
        target = address + 4 + (offset - (1 << 12) if offset & (1 << 11) else offset)
        return InsnInfo(address, 2, f"b {imm(target)}", "branch", branch=ALWAYS,
                        target=target)
    if top >> 1 == 0b1101:  # B<cond>
        cond = (hw >> 8) & 0xF
        if cond >= 14:
            return system_narrow(hw, address)  # (UDF, SVC)
        offset = (hw & 0xFF) << 1
        target = address + 4 + (offset - (1 << 9) if offset & (1 << 8) else offset)
        return InsnInfo(address, 2, f"b{CONDITIONS[cond]} {imm(target)}", "branch_cond",
                        writes=regs(PC), branch=COND, target=target)
    return system_narrow(hw, address)



_REGISTER_OPS = ("ands", "eors", "lsls", "lsrs", "asrs", "adcs", "sbcs", "rors", "tst", "rsbs",
                 "cmp", "cmn", "orrs", "muls", "bics", "mvns")


def _register_ops(hw: int, lo3: int, mid3: int, address: int) -> InsnInfo | None:
    """Data processing on low registers (010000); MOV/ADD/CMP on high registers and BX/BLX
    (010001)."""
    if hw & 0xFC00 == 0x4000:
        name = _REGISTER_OPS[hw >> 6 & 0xF]
        d, m = REG[lo3], REG[mid3]
        rd, rm = NAME[lo3], NAME[mid3]
        if name in ("tst", "cmp", "cmn"):
            return alu(address, 2, f"{name} {rd}, {rm}", regs(d, m), regs(CPSR), 0)
        if name == "rsbs":
            return alu(address, 2, f"rsbs {rd}, {rm}, #0", regs(m), regs(d), d)
        if name == "muls":
            return alu(address, 2, f"muls {rd}, {rm}, {rd}", regs(d, m), regs(d), d, "mul")
        if name == "mvns":
            return alu(address, 2, f"mvns {rd}, {rm}", regs(m), regs(d), d)
        reads = regs(d, m, CPSR) if name in ("adcs", "sbcs") else regs(d, m)
        return alu(address, 2, f"{name} {rd}, {rm}", reads, regs(d), d)
    op = hw >> 8 & 3
    if op == 3:
        return _bx_blx(hw, address)
    rdn, rm = (hw >> 7 & 1) << 3 | lo3, hw >> 3 & 0xF
    if op == 2 and rm == 13 and rdn not in (13, 15):  # MOV Rd, SP
        return alu(address, 2, f"mov {NAME[rdn]}, sp", regs(SP), regs(REG[rdn]), REG[rdn])
    if op != 1 and rdn == 13 and rm not in (13, 15):  # MOV SP, Rm; ADD SP, Rm
        info = (alu(address, 2, f"mov sp, {NAME[rm]}", regs(REG[rm]), regs(SP), SP) if op
                else alu(address, 2, f"add sp, {NAME[rm]}", regs(SP, REG[rm]), regs(SP), SP))
        return info._replace(sp_delta=None)  # (SP set to a run-time value)
    if op != 1 and rdn == 15 and rm not in (13, 15):  # MOV PC, Rm; ADD PC, Rm: branches
        m = REG[rm]
        return InsnInfo(address, 2, f"{'mov' if op else 'add'} pc, {NAME[rm]}", "alu_pc",
                        reads=regs(m) if op else regs(PC, m), writes=regs(PC), branch=ALWAYS,
                        dest=PC)
    if op == 0 and rm == 13 and rdn not in (13, 15):  # ADD Rdm, SP, Rdm
        d = REG[rdn]
        return alu(address, 2, f"add {NAME[rdn]}, sp, {NAME[rdn]}", regs(SP, d), regs(d), d)
    if 13 in (rdn, rm) or 15 in (rdn, rm):
        return None
    d, m = REG[rdn], REG[rm]
    if op == 1:  # CMP (high registers)
        return alu(address, 2, f"cmp {NAME[rdn]}, {NAME[rm]}", regs(d, m), regs(CPSR), 0)
    if op == 2:
        return alu(address, 2, f"mov {NAME[rdn]}, {NAME[rm]}", regs(m), regs(d), d)
    return alu(address, 2, f"add {NAME[rdn]}, {NAME[rm]}", regs(d, m), regs(d), d)


def _bx_blx(hw: int, address: int) -> InsnInfo | None:
    """BX/BLX (register): 010001 11 L Rm 000."""
    rm = hw >> 3 & 0xF
    if hw & 7 or rm in (13, 15):
        return None
    m = REG[rm]
    if hw & 0x80:
        # (capstone's dest: the first register operand if written: LR for BLX LR)
        return InsnInfo(address, 2, f"blx {NAME[rm]}", "bx", reads=regs(PC, m),
                        writes=regs(10, PC), branch=ALWAYS, dest=10 if rm == 14 else 0)
    return InsnInfo(address, 2, f"bx {NAME[rm]}", "bx", reads=regs(m), writes=regs(PC),
                    branch=ALWAYS)
