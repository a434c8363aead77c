"""Cortex-M33 timing rules from jnk0le's RP2350 measurements (J33; isa/cycles/README.md "M33"),
applied by the table model (isa/table_timing.py) when the core's table switches them on.

Which registers an operand names, which one a multiply-accumulate accumulates into, and whether
an instruction sets the flags are read from the instruction's text: capstone's register lists
say neither which operand is the accumulator nor (in Thumb) whether the flags are written.
"""

from __future__ import annotations

import re

from mcusim.isa.classify import ALWAYS, COND, InsnInfo

# Condition suffixes a mnemonic carries inside an IT block, and the data-processing operations
# whose mnemonic takes an S when they set the flags (so "bics" is BIC+S, not "bi" + CS).
_CONDITIONS = frozenset({"eq", "ne", "cs", "hs", "cc", "lo", "mi", "pl", "vs", "vc", "hi", "ls",
                         "ge", "lt", "gt", "le"})
_FLAG_OPS = frozenset({"adc", "add", "and", "asr", "bic", "cmn", "cmp", "eor", "lsl", "lsr",
                       "mov", "mul", "mvn", "neg", "orn", "orr", "ror", "rrx", "rsb", "sbc",
                       "sub", "teq", "tst"})
_COMPARES = frozenset({"cmp", "cmn", "tst", "teq"})
# Operations with a Thumb-2 modified-immediate form ("operand2 constant").
_MODIFIED_IMM_OPS = frozenset({"adc", "add", "and", "bic", "cmn", "cmp", "eor", "mov", "mvn",
                               "orn", "orr", "rsb", "sbc", "sub", "teq", "tst"})
_SHIFTS = ("lsl #", "lsr #", "asr #", "ror #", "rrx")
# Multiply-accumulates (J33: "multiply accumulates have 2 cycle result latency, accumulate
# dependency can be chained") and extend-and-add ("{u,x}xta{b,h,b16} have 2 cycle result
# latency, accumulate dependency can be chained like in multiply accumulates").
_MAC_PREFIXES = ("mla", "mls", "smla", "smls", "smmla", "smmls", "usada", "umlal", "smlal",
                 "umaal")
_LONG_MAC_PREFIXES = ("umlal", "smlal", "umaal")
_XTA = frozenset({"sxtab", "sxtah", "sxtab16", "uxtab", "uxtah", "uxtab16"})
_REGISTER = re.compile(r"\b(r1[0-5]|r[0-9]|sb|sl|fp|ip|sp|lr)\b")


def _mnemonic(insn: InsnInfo) -> str:
    return insn.text.split(" ", 1)[0].removesuffix(".w").removesuffix(".n")


def _operands(insn: InsnInfo) -> list[str]:
    parts = insn.text.split(" ", 1)
    return parts[1].split(", ") if len(parts) == 2 else []


def _base_op(mnemonic: str) -> tuple[str, bool]:
    """The operation of a data-processing mnemonic without its condition and S suffix, and
    whether it had the S."""
    if mnemonic[-2:] in _CONDITIONS and (mnemonic[:-2] in _FLAG_OPS
                                         or mnemonic[:-3] in _FLAG_OPS and mnemonic[-3] == "s"):
        mnemonic = mnemonic[:-2]  # an IT-conditional form such as addeq or addseq
    if mnemonic.endswith("s") and mnemonic[:-1] in _FLAG_OPS:
        return mnemonic[:-1], True
    return mnemonic, False


# The classes the text rules can say yes for: each rule tests the class first (and the shifted
# operand forms are 32-bit), so instructions of other classes are answered without their text
# (cheaper tests first: most instructions of a block match none of the rules).
_FLAG_CLASSES = frozenset({"alu", "mul"})
_LATE_CLASSES = frozenset({"mla", "mlal", "dsp", "dsp_long", "alu"})


def sets_flags(insn: InsnInfo) -> bool:
    """Whether a data-processing instruction writes the condition flags: an S suffix, or a
    compare or test."""
    if insn.cls not in _FLAG_CLASSES:
        return False
    op, s = _base_op(_mnemonic(insn))
    return s or op in _COMPARES


def _shifted_register(insn: InsnInfo) -> bool:
    """A 32-bit data-processing instruction whose last operand is an inline-shifted register
    (add.w r3, r4, r5, ror #24); shift instructions themselves (lsl.w r0, r1, #2) are not."""
    ops = _operands(insn)
    return (insn.cls == "alu" and insn.wide and len(ops) >= 3
            and ops[-1].startswith(_SHIFTS))


def _shifted_constant(insn: InsnInfo) -> bool:
    """A modified-immediate operand that is neither an 8-bit value nor a replicated pattern
    (J33: "shifted constant - eor r0, r1, #0x1fc0")."""
    ops = _operands(insn)
    if insn.cls != "alu" or not insn.wide or not ops or not ops[-1].startswith("#"):
        return False
    op, _ = _base_op(_mnemonic(insn))
    if op not in _MODIFIED_IMM_OPS:
        return False  # addw/subw/movw/movt take plain 12/16-bit immediates
    try:
        v = int(ops[-1][1:], 0) & 0xFFFFFFFF
    except ValueError:
        return False
    b = v & 0xFF
    return not (v == b or v in (b | b << 16, b << 8 | b << 24, b * 0x01010101))


def two_stage_flags(insn: InsnInfo) -> bool:
    """J33: instructions that execute over two pipeline stages and set the flags "take a total
    of 2 cycles": MULS.N, and operand2 shifted-constant forms (MOVS.W excepted)."""
    if not (insn.cls == "mul" or insn.cls == "alu" and insn.size == 4) or not sets_flags(insn):
        return False
    if insn.cls == "mul":
        return not insn.wide
    return _shifted_constant(insn) and _base_op(_mnemonic(insn))[0] != "mov"


def _is_mac(insn: InsnInfo) -> bool:
    return (insn.cls in ("mla", "mlal", "dsp", "dsp_long")
            and _mnemonic(insn).startswith(_MAC_PREFIXES))


def _is_xta(insn: InsnInfo) -> bool:
    return insn.cls == "dsp" and _mnemonic(insn) in _XTA


def _accumulator_split(insn: InsnInfo) -> tuple[frozenset[str], frozenset[str]]:
    """The operands a multiply-accumulate (or an extend-and-add) accumulates into, and the
    other operands it reads (empty sets for any other instruction)."""
    ops = _operands(insn)
    if _is_mac(insn):
        if _mnemonic(insn).startswith(_LONG_MAC_PREFIXES) or insn.cls == "dsp_long":
            return frozenset(ops[:2]), frozenset(ops[2:4])  # umlal rdlo, rdhi, rn, rm
        return frozenset(ops[3:4]), frozenset(ops[1:3])  # mla rd, rn, rm, ra
    if _is_xta(insn):
        return frozenset(ops[1:2]), frozenset(ops[2:3])  # uxtab rd, rn, rm
    return frozenset(), frozenset()


def _only_accumulated(insn: InsnInfo, names: frozenset[str]) -> bool:
    """Whether `insn` reads the registers `names` only as its accumulator."""
    acc, others = _accumulator_split(insn)
    return bool(acc) and names <= acc and not names & others


def loaded_only_as_accumulator(insn: InsnInfo, prev: InsnInfo) -> bool:
    """J33: "load result can be consumed as MAC accumulate dependency in 1 cycle" (not by
    *XTA* or shifted-operand instructions)."""
    ops = _operands(prev)
    return bool(prev.load and ops and _is_mac(insn)
                and _only_accumulated(insn, frozenset(ops[:1])))


def late_result_use(insn: InsnInfo, prev: InsnInfo) -> bool:
    """Whether `insn` waits a cycle for the result of `prev`, an instruction whose result
    latency is 2 (J33): a multiply-accumulate, an extend-and-add, or a data-processing op with
    an inline-shifted register or a shifted constant. A following multiply-accumulate or
    extend-and-add takes it as its accumulator without waiting, and a store stores it."""
    if prev.cls not in _LATE_CLASSES or prev.cls == "alu" and prev.size != 4:
        return False  # (neither a MAC, an extend-and-add nor a 32-bit shifted form)
    if not (_is_mac(prev) or _is_xta(prev) or _shifted_register(prev)
            or _shifted_constant(prev)):
        return False
    ops = _operands(prev)
    dests = frozenset(ops[:2] if len(_accumulator_split(prev)[0]) == 2 else ops[:1])
    # capstone's read list can miss an operand (UXTAB's Rm), so the text counts too
    named = dests & frozenset(_REGISTER.findall(", ".join(_operands(insn)[1:])))
    if not (prev.writes & insn.reads or named):
        return False
    if insn.store:
        address = insn.text[insn.text.find("["):]
        return bool(dests & frozenset(_REGISTER.findall(address)))  # data: no wait (J33)
    return not _only_accumulated(insn, named or dests)


def pair_costs(block: list[InsnInfo], cycles: list[int], refill: int, taken_extra: int) -> int:
    """Limited dual issue: a 16-bit IT, B<cond> or B issues as the younger of a pair with the
    16-bit instruction before it (not a branch, not itself the younger of a pair). IT then
    costs 0; a B<cond> 0 when not taken and, when taken, P after an instruction that sets no
    flags, 1 + P after one that does; a B after an instruction that sets no flags P. Updates
    `cycles`; returns the block's taken_extra."""
    younger = False
    for k in range(1, len(block)):
        insn, prev = block[k], block[k - 1]
        if younger or insn.wide or prev.wide or prev.branch is not None:
            younger = False
            continue
        flags = sets_flags(prev)
        if insn.cls == "it":
            cycles[k] = 0
        elif insn.cls == "branch_cond" and insn.branch == COND and k == len(block) - 1:
            cycles[k] = 0
            taken_extra = refill + flags
        elif insn.cls == "branch" and insn.branch == ALWAYS and not flags:
            cycles[k] = refill
        else:
            younger = False
            continue
        younger = True
    return taken_extra
