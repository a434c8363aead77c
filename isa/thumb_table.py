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

from mcusim.isa.classify import ALWAYS, COND, InsnInfo, _shared

# Capstone's register ids and names (default syntax: r9-r12 as sb, sl, fp, ip).
_REG = [66 + n for n in range(13)] + [12, 10, 11]
_NAME = ["r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "sb", "sl", "fp", "ip", "sp",
         "lr", "pc"]
SP, PC, CPSR = 12, 11, 3
_COND = ["eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi", "ls", "ge", "lt", "gt", "le"]
_EMPTY: frozenset[int] = frozenset()


def _imm(v: int) -> str:
    if v < 0:
        return f"#-{-v:#x}" if v < -9 else f"#-{-v}"
    return f"#{v:#x}" if v > 9 else f"#{v}"


def _set(*regs: int) -> frozenset[int]:
    return _shared(frozenset(regs))


def _alu(address: int, size: int, text: str, reads: frozenset[int], writes: frozenset[int],
         dest: int, cls: str = "alu") -> InsnInfo:
    return InsnInfo(address, size, text, cls, reads=reads, writes=writes, dest=dest)


def _mem(address: int, size: int, text: str, load: bool, rt: int, rn: int, rm: int,
         disp: int) -> InsnInfo:
    """A single load or store with [rn, #disp] or [rn, rm] addressing, no writeback."""
    t, n, m = _REG[rt], _REG[rn], _REG[rm] if rm >= 0 else 0
    if load:
        return InsnInfo(address, size, text, "ldr", reads=_set(n, m) if m else _set(n),
                        writes=_set(t), load=True, reg_offset=m != 0, base=n, index=m,
                        dest=t, mem_base=n, mem_index=m, disp=disp, span=8)
    return InsnInfo(address, size, text, "str", reads=_set(t, n, m) if m else _set(t, n),
                    store=True, reg_offset=m != 0, base=n, index=m, mem_base=n, mem_index=m,
                    disp=disp, span=8)


def classify_at(code: bytes, pos: int, address: int) -> InsnInfo | None:
    """The instruction at code[pos:] (at `address`), if its encoding is one handled here."""
    hw = code[pos] | code[pos + 1] << 8
    top = hw >> 11
    if top >= 0b11101:
        if pos + 3 >= len(code):
            return None
        return _wide(hw, code[pos + 2] | code[pos + 3] << 8, address)
    return _narrow(hw, top, address)


def _narrow(hw: int, top: int, address: int) -> InsnInfo | None:
    lo3, mid3 = hw & 7, (hw >> 3) & 7
    if top <= 2:  # LSL/LSR/ASR (immediate)
        imm5 = (hw >> 6) & 31
        d, m = _REG[lo3], _REG[mid3]
        if top == 0 and imm5 == 0:
            return _alu(address, 2, f"movs {_NAME[lo3]}, {_NAME[mid3]}", _set(m),
                        _set(d, CPSR), d)
        mnemonic = ("lsls", "lsrs", "asrs")[top]
        shift = imm5 if imm5 or top == 0 else 32
        return _alu(address, 2, f"{mnemonic} {_NAME[lo3]}, {_NAME[mid3]}, {_imm(shift)}",
                    _set(m), _set(d), d)
    if top == 3:  # ADDS/SUBS (register, 3-bit immediate)
        op = (hw >> 9) & 3
        mnemonic = "subs" if op & 1 else "adds"
        d, n = _REG[lo3], _REG[mid3]
        field = (hw >> 6) & 7
        if op & 2:
            return _alu(address, 2, f"{mnemonic} {_NAME[lo3]}, {_NAME[mid3]}, {_imm(field)}",
                        _set(n), _set(d), d)
        return _alu(address, 2,
                    f"{mnemonic} {_NAME[lo3]}, {_NAME[mid3]}, {_NAME[field]}",
                    _set(n, _REG[field]), _set(d), d)
    if top <= 7:  # MOVS/CMP/ADDS/SUBS (8-bit immediate)
        rd = (hw >> 8) & 7
        d, imm = _REG[rd], hw & 0xFF
        if top == 4:
            return _alu(address, 2, f"movs {_NAME[rd]}, {_imm(imm)}", _EMPTY, _set(d), d)
        if top == 5:
            return _alu(address, 2, f"cmp {_NAME[rd]}, {_imm(imm)}", _set(d), _set(CPSR), 0)
        mnemonic = "adds" if top == 6 else "subs"
        return _alu(address, 2, f"{mnemonic} {_NAME[rd]}, {_imm(imm)}", _set(d), _set(d), d)
    if top == 8:
        return _register_ops(hw, lo3, mid3, address)
    if top == 9:  # LDR (literal)
        rt, disp = (hw >> 8) & 7, (hw & 0xFF) * 4
        t = _REG[rt]
        return InsnInfo(address, 2, f"ldr {_NAME[rt]}, [pc, {_imm(disp)}]", "ldr",
                        reads=_set(PC), writes=_set(t), load=True, base=PC, dest=t,
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
        offset = f", {_imm(disp)}" if disp else ""
        text = f"{'ldr' if load else 'str'}{kind} {_NAME[lo3]}, [{_NAME[mid3]}{offset}]"
        return _mem(address, 2, text, load, lo3, mid3, -1, disp)
    if top in (0b10010, 0b10011):  # LDR/STR [SP, #imm8]
        load = bool(hw & 0x800)
        rt, disp = (hw >> 8) & 7, (hw & 0xFF) * 4
        offset = f", {_imm(disp)}" if disp else ""
        text = f"{'ldr' if load else 'str'} {_NAME[rt]}, [sp{offset}]"
        return _mem(address, 2, text, load, rt, 13, -1, disp)
    if top == 0b01010 or top == 0b01011:  # [Rn, Rm]
        name = ("str", "strh", "strb", "ldrsb", "ldr", "ldrh", "ldrb", "ldrsh")[hw >> 9 & 7]
        rm = (hw >> 6) & 7
        text = f"{name} {_NAME[lo3]}, [{_NAME[mid3]}, {_NAME[rm]}]"
        return _mem(address, 2, text, name.startswith("ldr"), lo3, mid3, rm, 0)
    if hw & 0xF500 == 0xB100:  # CBZ/CBNZ
        target = address + 4 + ((hw >> 9 & 1) << 6 | (hw >> 3 & 31) << 1)
        name = "cbnz" if hw & 0x800 else "cbz"
        return InsnInfo(address, 2, f"{name} {_NAME[lo3]}, {_imm(target)}", "cbz",
                        reads=_set(_REG[lo3]), branch=COND, target=target)
    if hw & 0xFE00 in (0xB400, 0xBC00):
        return _push_pop(hw & 0x0800 != 0, hw & 0xFF, hw >> 8 & 1, address, 2, "")
    if hw & 0xFF07 in (0x4700, 0x4780):  # BX/BLX (register)
        rm = hw >> 3 & 0xF
        if rm in (13, 15):
            return None
        m = _REG[rm]
        if hw & 0x80:
            return InsnInfo(address, 2, f"blx {_NAME[rm]}", "bx", reads=_set(PC, m),
                            writes=_set(10, PC), branch=ALWAYS)
        return InsnInfo(address, 2, f"bx {_NAME[rm]}", "bx", reads=_set(m), writes=_set(PC),
                        branch=ALWAYS)
    if hw & 0xFF00 in (0xB200, 0xBA00):  # SXTH/SXTB/UXTH/UXTB, REV/REV16/REVSH
        op = hw >> 6 & 3
        name = (("sxth", "sxtb", "uxth", "uxtb") if hw & 0xFF00 == 0xB200
                else ("rev", "rev16", None, "revsh"))[op]
        if name is None:
            return None
        d = _REG[lo3]
        return _alu(address, 2, f"{name} {_NAME[lo3]}, {_NAME[mid3]}", _set(_REG[mid3]),
                    _set(d), d)
    if top == 0b11100:  # B (unconditional)
        offset = (hw & 0x7FF) << 1
        target = address + 4 + (offset - (1 << 12) if offset & (1 << 11) else offset)
        return InsnInfo(address, 2, f"b {_imm(target)}", "branch", branch=ALWAYS,
                        target=target)
    if top >> 1 == 0b1101:  # B<cond>
        cond = (hw >> 8) & 0xF
        if cond >= 14:
            return None
        offset = (hw & 0xFF) << 1
        target = address + 4 + (offset - (1 << 9) if offset & (1 << 8) else offset)
        return InsnInfo(address, 2, f"b{_COND[cond]} {_imm(target)}", "branch_cond",
                        writes=_set(PC), branch=COND, target=target)
    return None


def _push_pop(pop: bool, low: int, extra: int, address: int, size: int,
              suffix: str) -> InsnInfo | None:
    """PUSH {low registers, LR if extra} / POP {low registers, PC if extra} (or the wide
    forms, whose `low` holds r0-r12)."""
    regs = [r for r in range(13) if low >> r & 1]
    if not regs and not extra:
        return None
    names = [_NAME[r] for r in regs] + ([("pc" if pop else "lr")] if extra else [])
    n = len(names)
    ids = [_REG[r] for r in regs]
    text = f"{'pop' if pop else 'push'}{suffix} {{{', '.join(names)}}}"
    if not pop:
        return InsnInfo(address, size, text, "stm", nregs=n,
                        reads=_set(SP, *ids, *([10] if extra else [])), writes=_set(SP),
                        mem_base=SP, span=4 * n, sp_delta=-4 * n)
    writes = _set(SP, *ids, *([PC] if extra else []))
    dest = ids[0] if ids else (PC if extra else 0)
    if extra:
        return InsnInfo(address, size, text, "ldm_pc", nregs=n - 1, reads=_set(SP),
                        writes=writes, branch=ALWAYS, dest=dest, mem_base=SP, span=4 * n,
                        sp_delta=4 * n)
    return InsnInfo(address, size, text, "ldm", nregs=n, reads=_set(SP), writes=writes,
                    dest=dest, mem_base=SP, span=4 * n, sp_delta=4 * n)


_REGISTER_OPS = ("ands", "eors", "lsls", "lsrs", "asrs", "adcs", "sbcs", "rors", "tst", "rsbs",
                 "cmp", "cmn", "orrs", "muls", "bics", "mvns")


def _register_ops(hw: int, lo3: int, mid3: int, address: int) -> InsnInfo | None:
    """Data processing on low registers (010000) and MOV/ADD on high registers (010001)."""
    if hw & 0xFC00 == 0x4000:
        name = _REGISTER_OPS[hw >> 6 & 0xF]
        d, m = _REG[lo3], _REG[mid3]
        rd, rm = _NAME[lo3], _NAME[mid3]
        if name in ("tst", "cmp", "cmn"):
            return _alu(address, 2, f"{name} {rd}, {rm}", _set(d, m), _set(CPSR), 0)
        if name == "rsbs":
            return _alu(address, 2, f"rsbs {rd}, {rm}, #0", _set(m), _set(d), d)
        if name == "muls":
            return _alu(address, 2, f"muls {rd}, {rm}, {rd}", _set(d, m), _set(d), d, "mul")
        if name == "mvns":
            return _alu(address, 2, f"mvns {rd}, {rm}", _set(m), _set(d), d)
        reads = _set(d, m, CPSR) if name in ("adcs", "sbcs") else _set(d, m)
        return _alu(address, 2, f"{name} {rd}, {rm}", reads, _set(d), d)
    op = hw >> 8 & 3
    if op not in (0, 2):  # CMP (high registers), BX/BLX: left to capstone
        return None
    rdn, rm = (hw >> 7 & 1) << 3 | lo3, hw >> 3 & 0xF
    if 13 in (rdn, rm) or 15 in (rdn, rm):
        return None
    d, m = _REG[rdn], _REG[rm]
    if op == 2:
        return _alu(address, 2, f"mov {_NAME[rdn]}, {_NAME[rm]}", _set(m), _set(d), d)
    return _alu(address, 2, f"add {_NAME[rdn]}, {_NAME[rm]}", _set(d, m), _set(d), d)


def _wide(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    if hw1 >> 11 == 0b11110:
        if hw2 & 0x8000:
            return _branch_wide(hw1, hw2, address)
        if hw1 & 0x0200 == 0:
            return _modified_immediate(hw1, hw2, address)
        if hw1 & 0xFB70 in (0xF240, 0xF2C0):
            return _movw_movt(hw1, hw2, address)
        return None
    if hw1 & 0xFE00 == 0xEA00:
        return _shifted_register(hw1, hw2, address)
    if hw1 & 0xFF80 == 0xFB00:
        return _multiply(hw1, hw2, address)
    if hw1 & 0xFFA0 == 0xFB80 and hw2 & 0xF0 == 0:  # SMULL/UMULL/SMLAL/UMLAL
        return _long_multiply(hw1, hw2, address)
    if hw1 in (0xE92D, 0xE8BD) and (hw2 & 0xDFFF).bit_count() < 2:
        return None  # one register: capstone prints STMDB/LDM
    if hw1 == 0xE92D and not hw2 & 0xA000:  # PUSH.W (STMDB SP!)
        return _push_pop(False, hw2 & 0x1FFF, hw2 >> 14 & 1, address, 4, ".w")
    if hw1 == 0xE8BD and not hw2 & 0x6000:  # POP.W (LDMIA SP!), without LR
        return _push_pop(True, hw2 & 0x1FFF, hw2 >> 15 & 1, address, 4, ".w")
    if hw1 & 0xFE00 == 0xF800:
        return _load_store(hw1, hw2, address)
    return None


def _thumb_expand(imm12: int) -> int:
    if imm12 >> 10 == 0:
        b = imm12 & 0xFF
        return (b, b * 0x00010001, b * 0x01000100, b * 0x01010101)[(imm12 >> 8) & 3]
    unrotated, rotation = 0x80 | (imm12 & 0x7F), imm12 >> 7
    return ((unrotated >> rotation) | (unrotated << (32 - rotation))) & 0xFFFFFFFF


# Data-processing opcodes: mnemonic, its name when Rd is PC with S (compare), when Rn is PC
# (move); capstone (LLVM) prints ".w" where a narrow encoding of the mnemonic exists.
_DP = {0b0000: ("and", "tst", None), 0b0001: ("bic", None, None), 0b0010: ("orr", None, "mov"),
       0b0011: ("orn", None, "mvn"), 0b0100: ("eor", "teq", None), 0b1000: ("add", "cmn", None),
       0b1010: ("adc", None, None), 0b1011: ("sbc", None, None), 0b1101: ("sub", "cmp", None),
       0b1110: ("rsb", None, None)}
_WIDE_IMM = {"mov", "movs", "add", "adds", "sub", "subs", "cmp", "cmn", "tst", "teq", "rsb",
             "rsbs"}
_WIDE_REG = {"add", "adds", "sub", "subs", "and", "ands", "orr", "orrs", "eor", "eors", "bic",
             "bics", "adc", "adcs", "sbc", "sbcs", "mov", "movs", "mvn", "mvns", "cmp", "cmn",
             "tst", "teq"}
_CARRY_IN = {"adc", "sbc"}

def _data_processing(op: int, s: int, rn: int, rd: int, operand: str, sources: tuple[int, ...],
                     address: int, wide_names: set[str]) -> InsnInfo | None:
    entry = _DP.get(op)
    if entry is None or rd == 13 or rn == 13 or (rd == 15 and not s):
        return None
    name, compare, move = entry
    if rd == 15:
        if compare is None:
            return None
        name, s = compare, 0
    elif rn == 15:
        if move is None:
            return None
        name = move
    mnemonic = name + ("s" if s else "")
    if mnemonic in wide_names:
        mnemonic += ".w"
    reads = [_REG[r] for r in sources]
    if name in (compare,):
        text = f"{mnemonic} {_NAME[rn]}, {operand}"
        return _alu(address, 4, text, _set(_REG[rn], *reads), _set(CPSR), 0)
    if name == move:
        text = f"{mnemonic} {_NAME[rd]}, {operand}"
        return _alu(address, 4, text, _set(*reads), _set(_REG[rd]), _REG[rd])
    text = f"{mnemonic} {_NAME[rd]}, {_NAME[rn]}, {operand}"
    d = _REG[rd]
    if name in _CARRY_IN:
        return _alu(address, 4, text, _set(_REG[rn], *reads, CPSR), _set(d, CPSR), d)
    return _alu(address, 4, text, _set(_REG[rn], *reads), _set(d), d)


def _modified_immediate(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    imm12 = (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 | (hw2 & 0xFF)
    value = _thumb_expand(imm12)
    op, rn = hw1 >> 5 & 0xF, hw1 & 0xF
    entry = _DP.get(op)
    if entry is None:
        return None
    # Capstone prints some operations' constants as an int32, the logical ones unsigned.
    rd = hw2 >> 8 & 0xF
    unsigned = (entry[0] == "orn" and rn == 15) or (
        entry[0] in ("and", "bic", "orr", "eor") and rn != 15 and rd != 15)
    if value & 0x80000000 and not unsigned:
        value -= 1 << 32
    return _data_processing(op, hw1 >> 4 & 1, rn, rd, _imm(value), (), address, _WIDE_IMM)


_SHIFT = ("lsl", "lsr", "asr", "ror")


def _shifted_register(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    if hw2 & 0x8000:
        return None
    rm = hw2 & 0xF
    if rm in (13, 15):
        return None
    kind, amount = hw2 >> 4 & 3, (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3)
    op, s, rn, rd = hw1 >> 5 & 0xF, hw1 >> 4 & 1, hw1 & 0xF, hw2 >> 8 & 0xF
    if rn == 15 and op == 0b0010 and (amount or kind):
        return None  # LSL/LSR/ASR/ROR/RRX (immediate): printed as shifts
    if kind == 0 and amount == 0:
        operand = _NAME[rm]
    elif kind == 3 and amount == 0:
        operand = f"{_NAME[rm]}, rrx"
    else:
        operand = f"{_NAME[rm]}, {_SHIFT[kind]} #{amount or 32}"
    return _data_processing(op, s, rn, rd, operand, (rm,), address, _WIDE_REG)


def _movw_movt(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    rd = hw2 >> 8 & 0xF
    if rd in (13, 15):
        return None
    value = (hw1 & 0xF) << 12 | (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 | (hw2 & 0xFF)
    d = _REG[rd]
    if hw1 & 0x0080:
        return _alu(address, 4, f"movt {_NAME[rd]}, {_imm(value)}", _set(d), _set(d), d)
    return _alu(address, 4, f"movw {_NAME[rd]}, {_imm(value)}", _EMPTY, _set(d), d)


_XY = ("bb", "bt", "tb", "tt")


def _multiply(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    op1, rn = hw1 >> 4 & 7, hw1 & 0xF
    ra, rd, op2, rm = hw2 >> 12, hw2 >> 8 & 0xF, hw2 >> 4 & 0xF, hw2 & 0xF
    if 13 in (rn, rd, rm) or 15 in (rn, rd, rm) or ra == 13:
        return None
    if op1 == 0 and op2 == 0:
        name, cls = ("mul", "mul") if ra == 15 else ("mla", "mla")
    elif op1 == 0 and op2 == 1 and ra != 15:
        name, cls = "mls", "mla"
    elif op1 == 1 and op2 < 4:
        name, cls = ("smul" if ra == 15 else "smla") + _XY[op2], "dsp"
    elif op1 == 2 and op2 < 2:
        name, cls = ("smuad" if ra == 15 else "smlad") + ("x" if op2 else ""), "dsp"
    else:
        return None
    d = _REG[rd]
    if ra == 15:
        return _alu(address, 4, f"{name} {_NAME[rd]}, {_NAME[rn]}, {_NAME[rm]}",
                    _set(_REG[rn], _REG[rm]), _set(d), d, cls)
    return _alu(address, 4, f"{name} {_NAME[rd]}, {_NAME[rn]}, {_NAME[rm]}, {_NAME[ra]}",
                _set(_REG[rn], _REG[rm], _REG[ra]), _set(d), d, cls)


_LONG_MULTIPLY = {0xFB80: "smull", 0xFBA0: "umull", 0xFBC0: "smlal", 0xFBE0: "umlal"}


def _long_multiply(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    rn, rm, lo, hi = hw1 & 0xF, hw2 & 0xF, hw2 >> 12, hw2 >> 8 & 0xF
    if {rn, rm, lo, hi} & {13, 15} or lo == hi:
        return None
    name = _LONG_MULTIPLY.get(hw1 & 0xFFF0)
    if name is None:
        return None
    n, m, dlo, dhi = _REG[rn], _REG[rm], _REG[lo], _REG[hi]
    text = f"{name} {_NAME[lo]}, {_NAME[hi]}, {_NAME[rn]}, {_NAME[rm]}"
    if name.endswith("ull"):
        return InsnInfo(address, 4, text, "mull", reads=_set(n, m), writes=_set(dlo, dhi),
                        sources=(n, m), dest=dlo)
    # (capstone lists the accumulator halves among UMLAL's reads, not among SMLAL's)
    reads = _set(n, m, dlo, dhi) if name == "umlal" else _set(n, m)
    return InsnInfo(address, 4, text, "mlal", reads=reads, writes=_set(dlo, dhi),
                    sources=(n, m), dest=dlo)


_LOAD_STORE = {0b0000: "strb", 0b0001: "ldrb", 0b0010: "strh", 0b0011: "ldrh",
               0b0100: "str", 0b0101: "ldr", 0b1001: "ldrsb", 0b1011: "ldrsh"}


def _load_store(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    """LDR/STR{B,H,SB,SH}.W Rt, [Rn, #imm12] and Rt, [Rn, #-imm8] (no writeback)."""
    name = _LOAD_STORE.get((hw1 >> 8 & 1) << 3 | (hw1 >> 4 & 7))
    rn, rt = hw1 & 0xF, hw2 >> 12
    if name is None or rt in (13, 15):
        return None
    if rn == 15:  # literal
        if not name.startswith("ldr"):
            return None
        up = bool(hw1 & 0x0080)
        disp = hw2 & 0xFFF if up else -(hw2 & 0xFFF)
        offset = _imm(disp) if up else f"#-{-disp:#x}"  # (subtracted: always hex, even 0)
        text = f"{name}.w {_NAME[rt]}, [pc, {offset}]"
    elif hw1 & 0x0080:
        disp = hw2 & 0xFFF
        offset = f", {_imm(disp)}" if disp else ""
        text = f"{name}.w {_NAME[rt]}, [{_NAME[rn]}{offset}]"
    elif hw2 & 0x0F00 == 0x0C00:  # P=1, U=0, W=0: a negative offset
        disp = -(hw2 & 0xFF)
        text = f"{name} {_NAME[rt]}, [{_NAME[rn]}, #-{-disp:#x}]"  # (always hex, even -0)
    else:
        return None
    return _mem(address, 4, text, name.startswith("ldr"), rt, rn, -1, disp)


def _branch_wide(hw1: int, hw2: int, address: int) -> InsnInfo | None:
    s = hw1 >> 10 & 1
    j1, j2 = hw2 >> 13 & 1, hw2 >> 11 & 1
    if hw2 & 0x1000:  # B.W (T4) or BL (T1)
        i1, i2 = 1 ^ j1 ^ s, 1 ^ j2 ^ s
        offset = (s << 24 | i1 << 23 | i2 << 22 | (hw1 & 0x3FF) << 12 | (hw2 & 0x7FF) << 1)
        target = (address + 4 + offset - (s << 25)) & 0xFFFFFFFF
        if hw2 & 0x4000:
            return InsnInfo(address, 4, f"bl {_imm(target)}", "bl", reads=_set(PC),
                            writes=_set(10, PC), branch=ALWAYS, target=target)
        return InsnInfo(address, 4, f"b.w {_imm(target)}", "branch", branch=ALWAYS,
                        target=target)
    if hw2 & 0x4000:
        return None
    cond = hw1 >> 6 & 0xF
    if cond >= 14:
        return None
    offset = s << 20 | j2 << 19 | j1 << 18 | (hw1 & 0x3F) << 12 | (hw2 & 0x7FF) << 1
    target = (address + 4 + offset - (s << 21)) & 0xFFFFFFFF
    return InsnInfo(address, 4, f"b{_COND[cond]}.w {_imm(target)}", "branch_cond",
                    branch=COND, target=target)
