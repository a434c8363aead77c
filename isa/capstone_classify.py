"""Classifying Thumb instructions with capstone's operand details: the reference the table
classifiers (isa/thumb_table.py, isa/native/) are checked against, and what classifies every
encoding they do not handle (isa/decode.py decides when). Imported when first needed."""

from __future__ import annotations

from functools import lru_cache

import capstone
from capstone import arm_const as A

from mcusim.isa.classify import ALWAYS, COND, InsnInfo, _shared

AL = A.ARM_CC_AL
PC = A.ARM_REG_PC


def _ids(*names: str) -> frozenset[int]:
    return frozenset(getattr(A, f"ARM_INS_{n}") for n in names if hasattr(A, f"ARM_INS_{n}"))


MUL = _ids("MUL")
MLA = _ids("MLA", "MLS")
MULL = _ids("UMULL", "SMULL")
MLAL = _ids("UMLAL", "SMLAL", "UMAAL")
DIV = _ids("SDIV", "UDIV")
DSP_LONG = _ids("SMLALBB", "SMLALBT", "SMLALTB", "SMLALTT", "SMLALD", "SMLALDX", "SMLSLD",
                "SMLSLDX")
DSP = _ids(
    "SMULBB", "SMULBT", "SMULTB", "SMULTT", "SMULWB", "SMULWT", "SMLABB", "SMLABT", "SMLATB",
    "SMLATT", "SMLAWB", "SMLAWT", "SMLAD", "SMLADX", "SMLSD", "SMLSDX", "SMUAD", "SMUADX",
    "SMUSD", "SMUSDX", "SMMUL", "SMMULR", "SMMLA", "SMMLAR", "SMMLS", "SMMLSR", "QADD", "QSUB",
    "QDADD", "QDSUB", "QADD8", "QADD16", "QSUB8", "QSUB16", "QASX", "QSAX", "SADD8", "SADD16",
    "SSUB8", "SSUB16", "SASX", "SSAX", "SHADD8", "SHADD16", "SHSUB8", "SHSUB16", "SHASX",
    "SHSAX", "UADD8", "UADD16", "USUB8", "USUB16", "UASX", "USAX", "UHADD8", "UHADD16",
    "UHSUB8", "UHSUB16", "UHASX", "UHSAX", "UQADD8", "UQADD16", "UQSUB8", "UQSUB16", "UQASX",
    "UQSAX", "USAD8", "USADA8", "SSAT", "SSAT16", "USAT", "USAT16", "SXTB16", "SXTAB16",
    "UXTB16", "UXTAB16", "PKHBT", "PKHTB", "SEL", "SXTAB", "SXTAH", "UXTAB", "UXTAH")
LOADS = _ids("LDR", "LDRB", "LDRH", "LDRSB", "LDRSH", "LDRT", "LDRBT", "LDRHT", "LDRSBT",
             "LDRSHT")
STORES = _ids("STR", "STRB", "STRH", "STRT", "STRBT", "STRHT")
LDREX = _ids("LDREX", "LDREXB", "LDREXH")
STREX = _ids("STREX", "STREXB", "STREXH")
LDM = _ids("LDM", "LDMDB", "LDMIB", "LDMDA", "POP")
STM = _ids("STM", "STMDB", "STMIB", "STMDA", "PUSH")
BARRIER = _ids("DMB", "DSB", "ISB")
WAIT = _ids("WFI", "WFE")
NOP = _ids("NOP", "YIELD", "HINT")
VFP_MAC = _ids("VMLA", "VMLS", "VNMLA", "VNMLS", "VFMA", "VFMS", "VFNMA", "VFNMS")
VLDM = _ids("VLDMIA", "VLDMDB", "VPOP")
VSTM = _ids("VSTMIA", "VSTMDB", "VPUSH")
CORE_REGS = frozenset(range(A.ARM_REG_R0, A.ARM_REG_R12 + 1)) | {
    A.ARM_REG_SP, A.ARM_REG_LR, PC}

@lru_cache(maxsize=1)
def disassembler() -> capstone.Cs:
    """Capstone for M-profile Thumb with operand details (also the fault traps' decoder)."""
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = True
    return md


def capstone_run(code: bytes, address: int) -> list[InsnInfo]:
    """The instructions of Thumb code at `address` as capstone decodes them in one call (an IT
    block inside it keeps its condition), up to the first that does not decode. (isa/decode.py
    decides what is decoded when; this is the reference classification.)"""
    return [_classify(i) for i in disassembler().disasm(code, address)]


def _classify(i: capstone.CsInsn) -> InsnInfo:
    iid = i.id
    reads_l, writes_l = i.regs_access()
    reads, writes = _shared(frozenset(reads_l)), _shared(frozenset(writes_l))
    text = f"{i.mnemonic} {i.op_str}".strip()
    conditional = i.cc not in (AL, 0)
    writes_pc = PC in writes
    first_reg = next((op.reg for op in i.operands if op.type == A.ARM_OP_REG), 0)
    kw: dict = {"reads": reads, "writes": writes,
                "dest": first_reg if first_reg in writes else 0,
                "writeback": bool(i.writeback)}
    mem = next((op.mem for op in i.operands if op.type == A.ARM_OP_MEM), None)
    regs_in_list = sum(1 for op in i.operands if op.type == A.ARM_OP_REG)
    if mem is not None:
        kw.update(mem_base=mem.base, mem_index=mem.index, disp=mem.disp, span=8)
    elif iid in LDM or iid in STM:
        base = A.ARM_REG_SP if iid in (A.ARM_INS_POP, A.ARM_INS_PUSH) else first_reg
        kw.update(mem_base=base, span=4 * regs_in_list)

    kw["sp_delta"] = _sp_delta(i, iid, writes, regs_in_list)

    def info(cls: str, **extra: object) -> InsnInfo:
        return InsnInfo(i.address, i.size, text, cls, **{**kw, **extra})

    def branch_kind() -> str:
        return COND if conditional else ALWAYS

    if iid == A.ARM_INS_B:
        target = i.operands[0].imm if i.operands else None
        return info("branch_cond" if conditional else "branch", branch=branch_kind(),
                    target=target)
    if iid in (A.ARM_INS_CBZ, A.ARM_INS_CBNZ):
        return info("cbz", branch=COND, target=i.operands[-1].imm)
    if iid == A.ARM_INS_BL:
        return info("bl", branch=branch_kind(), target=i.operands[0].imm)
    if iid in (A.ARM_INS_BX, A.ARM_INS_BLX):
        return info("bx", branch=branch_kind())
    if iid in (A.ARM_INS_TBB, A.ARM_INS_TBH):
        return info("tbb", branch=branch_kind())
    if iid in LDM:
        n = regs_in_list - (0 if iid == A.ARM_INS_POP else 1)  # LDM lists its base first
        if writes_pc:
            # The TRMs' "POP {<reglist>, PC}: k+N" counts the registers besides the PC.
            return info("ldm_pc", nregs=n - 1, branch=branch_kind())
        return info("ldm", nregs=n)
    if iid in STM:
        return info("stm", nregs=regs_in_list - (0 if iid == A.ARM_INS_PUSH else 1))
    if iid == A.ARM_INS_LDRD:
        return info("ldrd")
    if iid == A.ARM_INS_STRD:
        return info("strd")
    if iid in LOADS or iid in LDREX or iid in STREX:
        assert mem is not None
        if writes_pc:
            return info("ldr_pc", branch=branch_kind())
        cls = "ldr" if iid in LOADS else ("ldrex" if iid in LDREX else "strex")
        return info(cls, load=True, base=mem.base, index=mem.index, reg_offset=mem.index != 0)
    if iid in STORES:
        assert mem is not None
        return info("str", store=True, base=mem.base, index=mem.index,
                    reg_offset=mem.index != 0)
    if iid in MUL:
        return info("mul")
    if iid in MLA:
        return info("mla")
    if iid in MULL:
        return info("mull", sources=_regs(i)[2:4])
    if iid in MLAL:
        return info("mlal", sources=_regs(i)[2:4])
    if iid in DIV:
        return info("div", sources=_regs(i)[1:3])
    if iid in DSP_LONG:
        return info("dsp_long")
    if iid in DSP:
        return info("dsp")
    if iid == A.ARM_INS_IT:
        return info("it")
    if iid in WAIT or i.mnemonic.split(".")[0] in ("wfi", "wfe"):
        return info("wfi")  # capstone may report these hints as HINT
    if iid in NOP:
        return info("nop")
    if iid == A.ARM_INS_ISB:
        return info("isb")
    if iid in BARRIER:
        return info("barrier")
    if iid == A.ARM_INS_MSR:
        return info("msr")
    if iid == A.ARM_INS_MRS:
        return info("mrs")
    if iid == A.ARM_INS_CPS:
        return info("cps")
    if iid == A.ARM_INS_SVC:
        return info("svc")
    if iid == A.ARM_INS_BKPT:
        return info("bkpt")
    if i.mnemonic.startswith("v"):
        return _classify_fp(i, info, regs_in_list)
    if writes_pc:
        return info("alu_pc", branch=branch_kind())
    return info("alu")


def _sp_delta(i: capstone.CsInsn, iid: int, writes: frozenset[int],
              regs_in_list: int) -> int | None:
    """How an instruction moves SP, for exact stack high-water tracking."""
    sp = A.ARM_REG_SP
    ops = i.operands
    if iid in (A.ARM_INS_PUSH, A.ARM_INS_POP, A.ARM_INS_VPUSH, A.ARM_INS_VPOP):
        words = sum(2 if A.ARM_REG_D0 <= op.reg <= A.ARM_REG_D31 else 1
                    for op in ops if op.type == A.ARM_OP_REG)
        return -4 * words if iid in (A.ARM_INS_PUSH, A.ARM_INS_VPUSH) else 4 * words
    if sp not in writes:
        return 0
    if iid in LDM or iid in STM:
        if ops and ops[0].type == A.ARM_OP_REG and ops[0].reg == sp and i.writeback:
            n = regs_in_list - 1
            return -4 * n if iid in (A.ARM_INS_STMDB, A.ARM_INS_PUSH) else 4 * n
        return None
    mem = next((op.mem for op in ops if op.type == A.ARM_OP_MEM), None)
    if mem is not None and mem.base == sp and i.writeback:
        post = [op.imm for op in ops if op.type == A.ARM_OP_IMM]
        return post[0] if post else mem.disp
    if iid in (A.ARM_INS_ADD, A.ARM_INS_SUB, A.ARM_INS_ADDW, A.ARM_INS_SUBW) and ops:
        srcs = [op for op in ops[1:] if op.type == A.ARM_OP_REG]
        imm = [op.imm for op in ops if op.type == A.ARM_OP_IMM]
        if imm and all(op.reg == sp for op in srcs):
            return imm[0] if iid in (A.ARM_INS_ADD, A.ARM_INS_ADDW) else -imm[0]
    return None


def _regs(i: capstone.CsInsn) -> tuple[int, ...]:
    """Register operands in order, as capstone register ids."""
    return tuple(op.reg for op in i.operands if op.type == A.ARM_OP_REG)


def _classify_fp(i: capstone.CsInsn, info, regs_in_list: int) -> InsnInfo:  # noqa: ANN001
    iid = i.id
    if iid in VFP_MAC:
        return info("vfp_mac")
    if iid == A.ARM_INS_VDIV:
        return info("vfp_div")
    if iid == A.ARM_INS_VSQRT:
        return info("vfp_sqrt")
    if iid == A.ARM_INS_VLDR:
        return info("vldr")
    if iid == A.ARM_INS_VSTR:
        return info("vstr")
    if iid in VLDM or iid in VSTM:
        # Costs count single-precision words: a D register moves two.
        words = sum(2 if A.ARM_REG_D0 <= op.reg <= A.ARM_REG_D31 else 1
                    for op in i.operands if op.type == A.ARM_OP_REG and op.reg not in CORE_REGS)
        return info("vldm" if iid in VLDM else "vstm", nregs=words)
    if iid in (A.ARM_INS_VMRS, A.ARM_INS_VMSR):
        return info("vmrs")
    if iid == A.ARM_INS_VMOV:
        core = sum(1 for op in i.operands if op.type == A.ARM_OP_REG and op.reg in CORE_REGS)
        if core == 1:
            return info("vmov_core")
        if core >= 2:
            return info("vmov_core2")
    return info("vfp_alu")
