"""Cortex-M7 in-order dual issue: when each instruction of a block issues.

Each instruction issues at the earliest cycle at which its source registers are ready for the
pipeline stage that reads them, in program order, two per cycle at most, and only as the
younger of a pair that the pairing rules allow. A block's cost per instruction is the gap to
the next instruction's issue cycle; the last one costs what it occupies. The rules and their
sources are in isa/cycles/README.md ("Cortex-M7 issue model"); the short names below are J7
(jnk0le, measured on an STM32H743) and LLVM-M7 (ARMScheduleM7.td).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache

from mcusim.isa.arm_regs import LR, PC, R0, SP
from mcusim.isa.classify import InsnInfo

# Instructions that issue alone (LLVM-M7 SingleIssue / NonGeneralPurpose; J7 for LDM/STM,
# LDRD/STRD, VLDR.64, two-register VMOV, VDIV/VSQRT).
SINGLE_ISSUE = frozenset({"ldm", "stm", "ldm_pc", "vldm", "vstm", "ldrd", "strd", "strex",
                          "tbb", "div", "msr", "mrs", "barrier", "isb", "svc", "bkpt", "cps",
                          "vmov_core2", "vmrs", "vfp_div", "vfp_sqrt"})
MAC = frozenset({"mul", "mla", "mull", "mlal", "dsp_long"})
FP_ARITH = frozenset({"vfp_alu", "vfp_mac", "vfp_div", "vfp_sqrt"})
BRANCHES = frozenset({"branch", "branch_cond", "bl", "bx", "cbz", "alu_pc", "ldr_pc",
                      "ldm_pc", "tbb"})
# J7: multiplies among the DSP instructions use the MAC pipe; the rest are bitfield/DSP ops.
_DSP_MAC = re.compile(r"^(smul|smla|smls|smua|smus|smmul|smmla|smmls|usada?8)")
# J7: bitfield ops that use the EX1 shifter (cannot pair with a shifted operand2).
_BITFIELD_SHIFTER = re.compile(r"^(bfi|bfc|sbfx|ubfx|rbit|rev|sxta|uxta|pkh)")
_BITFIELD = re.compile(r"^(bfi|bfc|sbfx|ubfx|rbit|rev|sxt|uxt|clz|pkh|sel|ssat|usat)")
_SHIFTED_REG = re.compile(r", (lsl|lsr|asr|ror) #|, rrx")
_REG_BEFORE_SHIFT = re.compile(r"(\w+), (?:lsl|lsr|asr|ror|rrx)")
REG_IDS = {**{f"r{n}": R0 + n for n in range(13)},
           "sb": R0 + 9, "sl": R0 + 10, "fp": R0 + 11, "ip": R0 + 12, "sp": SP, "lr": LR, "pc": PC}
REG_ID_SET = frozenset(REG_IDS.values())
_IMMEDIATE = re.compile(r"#(-?(?:0x[0-9a-f]+|\d+))$")
# J7: these (register or unshifted constant operands) run in the early ALU from the older slot.
_SIMPLE_MOVE = re.compile(r"^(adds?|subs?|movs?|addw|subw)$")
# J7: instructions after VDIV/VSQRT wait for it ("locks pipeline for the rest of the duration").
FP_LONG = {"vfp_div": 16, "vfp_sqrt": 14}
# Producers' result latencies by consumer stage (J7 "loads", "multiplication, MAC", "fpu";
# LLVM-M7 WriteLd 1, M7SlowLoad 2, WriteMUL/MAC 2, M7Read_ISS = -1 for addresses).
#               late  early  mul  acc  store
_LATENCY = {
    "alu":      (1,    2,     1,   1,   0),
    "alu_simple": (1,  2,     1,   1,   0),  # early: 1 when issued as the older op (below)
    "dsp":      (1,    2,     1,   1,   0),
    "dsp2":     (2,    3,     2,   1,   0),
    "ldr":      (1,    2,     2,   1,   0),
    "ldr_bh":   (2,    3,     3,   1,   0),
    "mac":      (2,    3,     2,   1,   0),
    # a load/store's base update: LLVM-M7 M7BaseUpdate ("bypassable out of EX1"); J7: pre/post-
    # indexed loads "can be issued back to back every cycle"
    "base":     (1,    1,     1,   1,   0),
}
LATE, EARLY, MUL_OPERAND, ACCUMULATOR, STORE_DATA = range(5)


@dataclass(frozen=True)
class _Kind:
    """What the issue model needs to know about one instruction, beyond InsnInfo (shared by
    the instructions that are the same but for their address: never changed once made)."""

    mnemonic: str
    shifter: bool  # uses the EX1 shifter: inline-shifted register or shifted-constant operand2
    bitfield: bool  # bitfield/DSP (non-multiply): older slot only, one per cycle
    bitfield_shifter: bool
    mac: bool
    early_sources: frozenset[int]  # registers read in EX1 (address, index, shifted operand)
    store_data: frozenset[int]
    accumulator: int  # register read as a MAC accumulator (0: none)
    produces: str  # latency row of its result


@dataclass
class _State:
    ready: dict[int, tuple[int, str, int]] = field(default_factory=dict)  # reg: (cycle, kind, slot)
    fp: dict[int, tuple[int, str]] = field(default_factory=dict)  # FP reg: (cycle, producer)


def _shifted_constant(text: str) -> bool:
    m = _IMMEDIATE.search(text)
    if m is None:
        return False
    value = int(m.group(1), 0) & 0xFFFFFFFF
    if value <= 0xFF or text.split()[0].rstrip(".w") in ("addw", "subw", "movw", "movt"):
        return False
    b = value & 0xFF
    # J7 "constant pattern": 0x00XY00XY, 0xXY00XY00, 0xXYXYXYXY issue like simple constants.
    return value not in (b * 0x00010001, b * 0x01000100, b * 0x01010101)


def kind_of(insn: InsnInfo) -> _Kind:
    return _kind(insn.text, insn.cls, insn.load, insn.store, insn.mem_base, insn.mem_index,
                 insn.reads, insn.dest)


@lru_cache(maxsize=1 << 16)
def _kind(text: str, cls: str, load: bool, store: bool, mem_base: int, mem_index: int,
          reads: frozenset[int], dest: int) -> _Kind:
    """kind_of from the fields of the instruction it reads: once per distinct instruction
    (less its address), since generated code repeats instructions and the text work is most
    of what the issue model costs."""
    mnemonic = text.split()[0] if text else ""
    base = mnemonic.split(".")[0]
    operands = text[len(mnemonic):]
    mac = cls in MAC or (cls == "dsp" and bool(_DSP_MAC.match(base)))
    bitfield = not mac and (cls == "dsp" or bool(_BITFIELD.match(base)))
    shifted_reg = bool(_SHIFTED_REG.search(operands)) and not (load or store)
    shifter = cls == "alu" and (shifted_reg or _shifted_constant(text))
    early: set[int] = set()
    if load or store or mem_base:
        early |= {mem_base, mem_index} - {0}
    if shifted_reg:
        shifted = _REG_BEFORE_SHIFT.search(operands)
        if shifted is not None and shifted.group(1) in REG_IDS:
            early.add(REG_IDS[shifted.group(1)])
    if bitfield and _BITFIELD_SHIFTER.match(base):
        early |= set(reads)  # J7: these consume their shifted/extracted operand in EX1
    store_data = frozenset(reads - early) if store or cls in ("strd", "stm") else frozenset()
    accumulator = dest if mac and base.startswith(("mla", "smla", "umlal", "smlal",
                                                   "umaal", "mls", "smmla", "smmls")) else 0
    if load:
        produces = "ldr_bh" if re.match(r"^ldr(s?b|s?h)", base) else "ldr"
    elif cls in ("ldm", "ldrd", "ldm_pc"):
        produces = "ldr"
    elif mac:
        produces = "mac"
    elif bitfield:
        produces = "dsp2" if re.match(r"^(q|uq|usad|ssat|usat)", base) else "dsp"
    elif cls == "alu" and not shifter and not shifted_reg and _SIMPLE_MOVE.match(base):
        produces = "alu_simple"
    else:
        produces = "alu"
    return _Kind(base, shifter, bitfield, bitfield and bool(_BITFIELD_SHIFTER.match(base)),
                 mac, frozenset(early), store_data, accumulator, produces)


def _occupancy(insn: InsnInfo, cost: int) -> int:
    """Cycles an instruction keeps the issue stage: 1, or its table cost when it issues alone
    (LDM/STM ceil(N/2) are computed by the table model and passed in as `cost`)."""
    return max(cost, 1) if insn.cls in SINGLE_ISSUE or insn.cls in FP_LONG else 1


def _can_pair(a: InsnInfo, ka: _Kind, b: InsnInfo, kb: _Kind) -> bool:
    """Whether `b` may issue as the younger instruction together with `a` (J7, LLVM-M7)."""
    if a.cls in SINGLE_ISSUE or b.cls in SINGLE_ISSUE or b.cls in FP_LONG or a.cls in FP_LONG:
        return False
    if b.cls in BRANCHES or b.cls == "it":
        return False  # J7 template: "branch can only be the old op"; one branch unit
    if a.store and b.store:
        return False  # J7: cannot dual issue two stores (one store port, LLVM-M7)
    if (a.load and b.load and a.mem_base == b.mem_base and not a.mem_index and not b.mem_index
            and not (_offset(a) ^ _offset(b)) & 4):
        return False  # J7: two loads pair only when they hit different banks (even/odd word)
    if ka.mac and kb.mac or (ka.mac and b.store) or (kb.mac and a.store):
        return False  # J7: one MAC pipe; multiplies do not pair with stores
    if kb.bitfield:
        return False  # J7: bitfield/DSP ops only as the older op, never two in a cycle
    if (ka.shifter or ka.bitfield_shifter) and (kb.shifter or kb.bitfield_shifter):
        return False  # J7 operand2 matrix; bitfield ops cannot pair with a shifted operand2
    if a.cls in FP_ARITH and b.cls in FP_ARITH:
        return False  # J7: FP arithmetic does not dual issue (one VFP pipe)
    # J7: an FP MAC cannot pair with VLDR/VSTR/VMOV
    return not (a.cls == "vfp_mac" and b.cls in ("vldr", "vstr", "vmov_core"))


def _offset(insn: InsnInfo) -> int:
    """The part of a load's address known before run time: its offset from the base register,
    or the whole address of a literal (PC-relative) load."""
    if insn.mem_base == PC:
        return ((insn.address + 4) & ~3) + insn.disp
    return insn.disp


def _ready_at(state: _State, insn: InsnInfo, kind: _Kind) -> int:
    """Earliest cycle at which `insn`'s integer sources are ready for the stages reading them."""
    at = 0
    for reg in insn.reads:
        if kind.mnemonic == "movt" and reg == insn.dest:
            continue  # J7: MOVW + MOVT "can dual issue with mutual dependency"
        produced = state.ready.get(reg)
        if produced is None:
            continue
        cycle, row, slot = produced
        if reg in kind.store_data:
            stage = STORE_DATA
        elif reg in kind.early_sources:
            stage = EARLY
        elif reg == kind.accumulator:
            stage = ACCUMULATOR
        elif kind.mac:
            stage = MUL_OPERAND
        else:
            stage = LATE
        latency = _LATENCY[row][stage]
        if stage == EARLY and row == "alu_simple" and slot == 0:
            latency = 1  # J7: add/sub/mov from the older slot run in the early ALU
        at = max(at, cycle + latency)
    return at


def _fp_producer(insn: InsnInfo, base: str) -> str | None:
    """The latency row of an instruction's floating-point result (None: not an FP result)."""
    if insn.cls == "vfp_mac":
        return "vfma" if base.startswith(("vfma", "vfms", "vfnm")) else "vmla"
    if insn.cls in ("vfp_alu", "vfp_div", "vfp_sqrt"):
        return "fpalu"
    if insn.cls in ("vldr", "vldm"):
        return "vldr"
    if insn.cls in ("vmov_core", "vmov_core2"):
        return "vmov"
    return None


def _fp_latency(producer: str, consumer: InsnInfo, base: str, reg: int) -> int:
    """J7 FPU table "result latency" (VFMA/VMLA/VADD/VMUL rows; VLDR and VMOV paragraphs)."""
    accumulate = consumer.cls == "vfp_mac" and reg == consumer.dest
    fused = base.startswith(("vfma", "vfms", "vfnm"))
    to_core = consumer.cls == "vmov_core" and reg != consumer.dest
    if producer == "vmov":
        return 3
    if producer == "vldr":
        return (3 if fused else 2) if accumulate else (2 if to_core else 1)
    if producer == "vfma":
        return (3 if fused else 2) if accumulate else (3 if consumer.cls == "vstr" else 5)
    if producer == "vmla":
        return 3 if accumulate else (4 if consumer.cls == "vstr" else 6)
    # VADD/VSUB/VMUL/VCVT/VDIV/VSQRT
    return (3 if fused else 2) if accumulate else (1 if consumer.cls == "vstr" else 3)


def issue_costs(block: list[InsnInfo], costs: list[int]) -> list[int]:
    """Per-instruction cycles of `block` on the Cortex-M7; `costs` are the table's costs of
    instructions that issue alone (LDM/STM ceil(N/2), divide, VDIV...)."""
    state = _State()
    issue: list[int] = []
    group_start = -1  # cycle of the current issue group
    group: list[int] = []  # positions in it
    free = 0  # first cycle a new group may start
    kinds = [kind_of(i) for i in block]
    for n, insn in enumerate(block):
        k = kinds[n]
        ready = _ready_at(state, insn, k)
        for reg in insn.reads:
            if reg in state.fp:
                cycle, producer = state.fp[reg]
                ready = max(ready, cycle + _fp_latency(producer, insn, k.mnemonic, reg))
        paired = False
        if len(group) == 1 and ready <= group_start:
            a = group[0]
            if _can_pair(block[a], kinds[a], insn, k) and not _raw(block[a], insn, k):
                paired = True
        if paired:
            at = group_start
            group.append(n)
        else:
            at = max(free, ready, group_start + 1)
            group_start, group = at, [n]
        issue.append(at)
        free = max(free, at + _occupancy(insn, costs[n]))
        slot = len(group) - 1
        fp = _fp_producer(insn, k.mnemonic)
        for reg in insn.writes:
            if fp is not None and reg not in REG_ID_SET:
                state.fp[reg] = (at, fp)
                state.ready.pop(reg, None)
            else:
                row = "base" if insn.writeback and reg == insn.mem_base else k.produces
                state.ready[reg] = (at, row, slot)
                state.fp.pop(reg, None)
    out = [issue[n + 1] - issue[n] for n in range(len(block) - 1)]
    if block:
        out.append(free - issue[-1])
    return out


def _raw(a: InsnInfo, b: InsnInfo, kb: _Kind) -> bool:
    """`b` reads what `a` writes in the same cycle: only MOVW+MOVT and a store of the result
    may do that (J7)."""
    shared = a.writes & b.reads
    if not shared:
        return False
    if a.text.startswith("movw") and b.text.startswith("movt"):
        return False
    return not shared <= kb.store_data
