/* The 32-bit encodings of the native table classifier, line by line the decisions of
 * isa/thumb_wide.py. */
#include "thumb_narrow.h"

#include <string.h>

static uint32_t thumb_expand(unsigned imm12) {
    if (imm12 >> 10 == 0) {
        uint32_t b = imm12 & 0xFF;
        switch (imm12 >> 8 & 3) {
        case 0: return b;
        case 1: return b * 0x00010001u;
        case 2: return b * 0x01000100u;
        default: return b * 0x01010101u;
        }
    }
    uint32_t unrotated = 0x80 | (imm12 & 0x7F);
    unsigned rotation = imm12 >> 7;
    return (unrotated >> rotation) | (unrotated << (32 - rotation));
}

/* Data-processing opcodes: mnemonic, its name when Rd is PC with S (compare), when Rn is PC
 * (move); NULL: none (thumb_wide._DP). */
static const char *const DP[16][3] = {
    [0x0] = {"and", "tst", NULL}, [0x1] = {"bic", NULL, NULL}, [0x2] = {"orr", NULL, "mov"},
    [0x3] = {"orn", NULL, "mvn"}, [0x4] = {"eor", "teq", NULL}, [0x8] = {"add", "cmn", NULL},
    [0xA] = {"adc", NULL, NULL}, [0xB] = {"sbc", NULL, NULL}, [0xD] = {"sub", "cmp", NULL},
    [0xE] = {"rsb", NULL, NULL}};
/* Where capstone (LLVM) prints ".w": a narrow encoding of the mnemonic exists. */
static const char *const WIDE_IMM[] = {"mov", "movs", "add", "adds", "sub", "subs", "cmp",
                                       "cmn", "tst", "teq", "rsb", "rsbs", NULL};
static const char *const WIDE_REG[] = {
    "add", "adds", "sub", "subs", "and", "ands", "orr", "orrs", "eor", "eors", "bic", "bics",
    "adc", "adcs", "sbc", "sbcs", "mov", "movs", "mvn", "mvns", "cmp", "cmn", "tst", "teq",
    NULL};

static int listed(const char *const *names, const char *name) {
    for (; *names; names++)
        if (strcmp(*names, name) == 0)
            return 1;
    return 0;
}

/* `value`: the immediate operand's (NULL: a register operand). */
static int data_processing(unsigned op, int s, int rn, int rd, const char *operand, int rm,
                           const int64_t *value, const char *const *wide_names, td_insn *o) {
    const char *name = DP[op][0], *compare = DP[op][1], *move = DP[op][2];
    /* SP only as ADD/SUB's first operand (ADD Rd, SP, ...), and as Rd only of SP, SP. */
    int sp_base = rn == 13 && (op == 0x8 || op == 0xD) && rd != 15;
    if (name == NULL || (rn == 13 && !sp_base) || (rd == 13 && (rn != 13 || s)) ||
        (rd == 15 && !s))
        return 0;
    int is_compare = 0, is_move = 0;
    if (rd == 15) {
        if (compare == NULL)
            return 0;
        name = compare, s = 0, is_compare = 1;
    } else if (rn == 15) {
        if (move == NULL)
            return 0;
        name = move, is_move = 1;
    }
    char mnemonic[12];
    td_format(mnemonic, sizeof mnemonic, "%s%s", name, s ? "s" : "");
    if (listed(wide_names, mnemonic))
        strcat(mnemonic, ".w");
    int m = rm >= 0 ? REG[rm] : 0;  /* the source register of a shifted-register operand */
    o->size = 4;
    if (is_compare) {
        td_text(o, "%s %s, %s", mnemonic, NAME[rn], operand);
        if (m)
            td_regs_of(&o->reads, 2, REG[rn], m);
        else
            td_regs_of(&o->reads, 1, REG[rn]);
        td_regs_of(&o->writes, 1, ID_CPSR);
        td_alu(o, 4, 0, C_ALU);
        return 1;
    }
    int d = REG[rd];
    if (is_move) {
        td_text(o, "%s %s, %s", mnemonic, NAME[rd], operand);
        if (m)
            td_regs_of(&o->reads, 1, m);
        else
            td_regs_of(&o->reads, 0);
        td_regs_of(&o->writes, 1, d);
        td_alu(o, 4, d, C_ALU);
        return 1;
    }
    td_text(o, "%s %s, %s, %s", mnemonic, NAME[rd], NAME[rn], operand);
    int carry_in = strcmp(name, "adc") == 0 || strcmp(name, "sbc") == 0;
    o->reads.n = 0;
    o->reads.id[o->reads.n++] = (uint8_t)REG[rn];
    if (m)
        o->reads.id[o->reads.n++] = (uint8_t)m;
    if (carry_in) {
        o->reads.id[o->reads.n++] = ID_CPSR;
        td_regs_of(&o->writes, 2, d, ID_CPSR);
    } else {
        td_regs_of(&o->writes, 1, d);
    }
    td_alu(o, 4, d, C_ALU);
    if (rd == 13) {  /* SP, SP: SP moves by a constant (capstone: the immediate), else unknown */
        if (value == NULL)
            o->sp_unknown = 1;
        else
            o->sp_delta = op == 0x8 ? *value : -*value;
    }
    return 1;
}

static int modified_immediate(unsigned hw1, unsigned hw2, td_insn *o) {
    unsigned imm12 = (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 | (hw2 & 0xFF);
    int64_t value = thumb_expand(imm12);
    unsigned op = hw1 >> 5 & 0xF;
    int rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF;
    const char *name = DP[op][0];
    if (name == NULL)
        return 0;
    /* Capstone prints some operations' constants as an int32, the logical ones unsigned. */
    int logical = strcmp(name, "and") == 0 || strcmp(name, "bic") == 0 ||
                  strcmp(name, "orr") == 0 || strcmp(name, "eor") == 0;
    int is_unsigned = (strcmp(name, "orn") == 0 && rn == 15) || (logical && rn != 15 && rd != 15);
    if ((value & 0x80000000) && !is_unsigned)
        value -= (int64_t)1 << 32;
    char operand[32];
    td_imm(operand, value);
    return data_processing(op, hw1 >> 4 & 1, rn, rd, operand, -1, &value, WIDE_IMM, o);
}

static int shifted_register(unsigned hw1, unsigned hw2, td_insn *o) {
    static const char *const shifts[4] = {"lsl", "lsr", "asr", "ror"};
    if (hw2 & 0x8000)
        return 0;
    int rm = hw2 & 0xF;
    if (rm == 13 || rm == 15)
        return 0;
    unsigned kind = hw2 >> 4 & 3, amount = (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3);
    unsigned op = hw1 >> 5 & 0xF;
    int s = hw1 >> 4 & 1, rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF;
    if (rn == 15 && op == 0b0010 && (amount || kind))
        return td_shift_immediate(hw1, hw2, o);  /* LSL/LSR/ASR/ROR/RRX (immediate) */
    char operand[32];
    if (kind == 0 && amount == 0)
        td_format(operand, sizeof operand, "%s", NAME[rm]);
    else if (kind == 3 && amount == 0)
        td_format(operand, sizeof operand, "%s, rrx", NAME[rm]);
    else
        td_format(operand, sizeof operand, "%s, %s #%u", NAME[rm], shifts[kind],
                  amount ? amount : 32);
    return data_processing(op, s, rn, rd, operand, rm, NULL, WIDE_REG, o);
}

static int movw_movt(unsigned hw1, unsigned hw2, td_insn *o) {
    int rd = hw2 >> 8 & 0xF;
    if (rd == 13 || rd == 15)
        return 0;
    unsigned value = (hw1 & 0xF) << 12 | (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 |
                     (hw2 & 0xFF);
    int d = REG[rd];
    char v[32];
    td_imm(v, value);
    if (hw1 & 0x0080) {
        td_text(o, "movt %s, %s", NAME[rd], v);
        td_regs_of(&o->reads, 1, d);
    } else {
        td_text(o, "movw %s, %s", NAME[rd], v);
    }
    td_regs_of(&o->writes, 1, d);
    td_alu(o, 4, d, C_ALU);
    return 1;
}

static int multiply(unsigned hw1, unsigned hw2, td_insn *o) {
    static const char *const xy[4] = {"bb", "bt", "tb", "tt"};
    int op1 = hw1 >> 4 & 7, rn = hw1 & 0xF;
    int ra = hw2 >> 12, rd = hw2 >> 8 & 0xF, op2 = hw2 >> 4 & 0xF, rm = hw2 & 0xF;
    if (rn == 13 || rd == 13 || rm == 13 || rn == 15 || rd == 15 || rm == 15 || ra == 13)
        return 0;
    char name[12];
    int cls;
    if (op1 == 0 && op2 == 0) {
        td_format(name, sizeof name, "%s", ra == 15 ? "mul" : "mla");
        cls = ra == 15 ? C_MUL : C_MLA;
    } else if (op1 == 0 && op2 == 1 && ra != 15) {
        td_format(name, sizeof name, "mls");
        cls = C_MLA;
    } else if (op1 == 1 && op2 < 4) {
        td_format(name, sizeof name, "%s%s", ra == 15 ? "smul" : "smla", xy[op2]);
        cls = C_DSP;
    } else if (op1 == 2 && op2 < 2) {
        td_format(name, sizeof name, "%s%s", ra == 15 ? "smuad" : "smlad", op2 ? "x" : "");
        cls = C_DSP;
    } else if (op1 == 3 && op2 < 2) {
        td_format(name, sizeof name, "%s%s", ra == 15 ? "smulw" : "smlaw", op2 ? "t" : "b");
        cls = C_DSP;
    } else if (op1 == 4 && op2 < 2) {
        td_format(name, sizeof name, "%s%s", ra == 15 ? "smusd" : "smlsd", op2 ? "x" : "");
        cls = C_DSP;
    } else if ((op1 == 5 || op1 == 6) && op2 < 2 && (op1 == 5 || ra != 15)) {
        td_format(name, sizeof name, "%s%s",
                  ra == 15 ? "smmul" : op1 == 5 ? "smmla" : "smmls", op2 ? "r" : "");
        cls = C_DSP;  /* SMMUL, SMMLA, SMMLS{R} */
    } else {
        return 0;
    }
    int d = REG[rd];
    if (ra == 15) {
        td_text(o, "%s %s, %s, %s", name, NAME[rd], NAME[rn], NAME[rm]);
        td_regs_of(&o->reads, 2, REG[rn], REG[rm]);
    } else {
        td_text(o, "%s %s, %s, %s, %s", name, NAME[rd], NAME[rn], NAME[rm], NAME[ra]);
        td_regs_of(&o->reads, 3, REG[rn], REG[rm], REG[ra]);
    }
    td_regs_of(&o->writes, 1, d);
    td_alu(o, 4, d, cls);
    return 1;
}

static int long_multiply(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rm = hw2 & 0xF, lo = hw2 >> 12, hi = hw2 >> 8 & 0xF;
    int regs[4] = {rn, rm, lo, hi};
    for (int k = 0; k < 4; k++)
        if (regs[k] == 13 || regs[k] == 15)
            return 0;
    if (lo == hi)
        return 0;
    const char *name;
    switch (hw1 & 0xFFF0) {
    case 0xFB80: name = "smull"; break;
    case 0xFBA0: name = "umull"; break;
    case 0xFBC0: name = "smlal"; break;
    case 0xFBE0: name = "umlal"; break;
    default: return 0;
    }
    int n = REG[rn], m = REG[rm], dlo = REG[lo], dhi = REG[hi];
    td_text(o, "%s %s, %s, %s, %s", name, NAME[lo], NAME[hi], NAME[rn], NAME[rm]);
    o->size = 4;
    o->cls = strcmp(name + 2, "ull") == 0 ? C_MULL : C_MLAL;
    /* (capstone lists only Rn and Rm among the reads, not the accumulator halves) */
    td_regs_of(&o->reads, 2, n, m);
    td_regs_of(&o->writes, 2, dlo, dhi);
    o->nsources = 2;
    o->sources[0] = n, o->sources[1] = m;
    o->dest = dlo;
    return 1;
}

static int load_store(unsigned hw1, unsigned hw2, td_insn *o) {
    /* LDR/STR{B,H,SB,SH}.W Rt, [Rn, #imm12], Rt, [Rn, #-imm8], Rt, [Rn, Rm, LSL #n] */
    static const char *const names[16] = {
        [0x0] = "strb", [0x1] = "ldrb", [0x2] = "strh", [0x3] = "ldrh", [0x4] = "str",
        [0x5] = "ldr", [0x9] = "ldrsb", [0xB] = "ldrsh"};
    const char *name = names[(hw1 >> 8 & 1) << 3 | (hw1 >> 4 & 7)];
    int rn = hw1 & 0xF, rt = hw2 >> 12;
    if (rt == 15 && name != NULL && strcmp(name, "ldrb") == 0)
        return td_preload(hw1, hw2, o);  /* (PLD: LDRB to the PC) */
    if (name == NULL || rt == 13 || (rt == 15 && strcmp(name, "ldr") != 0))
        return 0;  /* (LDR to the PC: a branch, see td_mem) */
    int load = strncmp(name, "ldr", 3) == 0;
    int64_t disp;
    char v[32];
    if (rn == 15) {  /* literal */
        if (!load)
            return 0;
        if (hw1 & 0x0080) {
            disp = hw2 & 0xFFF;
            td_imm(v, disp);
        } else {
            disp = -(int64_t)(hw2 & 0xFFF);
            td_negative_hex(v, (uint64_t)-disp);
        }
        td_text(o, "%s.w %s, [pc, %s]", name, NAME[rt], v);
    } else if (hw1 & 0x0080) {
        disp = hw2 & 0xFFF;
        char offset[40] = "";
        if (disp) {
            td_imm(v, disp);
            td_format(offset, sizeof offset, ", %s", v);
        }
        td_text(o, "%s.w %s, [%s%s]", name, NAME[rt], NAME[rn], offset);
    } else if ((hw2 & 0x0F00) == 0x0C00) {  /* P=1, U=0, W=0: a negative offset */
        disp = -(int64_t)(hw2 & 0xFF);
        td_negative_hex(v, (uint64_t)-disp);
        td_text(o, "%s %s, [%s, %s]", name, NAME[rt], NAME[rn], v);
    } else if (hw2 & 0x0800) {  /* [Rn, #+/-imm8]! and [Rn], #+/-imm8 */
        return td_load_store_writeback(name, hw1, hw2, o);
    } else if ((hw2 & 0x0FC0) == 0) {  /* [Rn, Rm, LSL #imm2] */
        int rm = hw2 & 0xF;
        unsigned shift = hw2 >> 4 & 3;
        if (rm == 13 || rm == 15)
            return 0;
        char scaled[16] = "";
        if (shift)
            td_format(scaled, sizeof scaled, ", lsl #%u", shift);
        td_text(o, "%s.w %s, [%s, %s%s]", name, NAME[rt], NAME[rn], NAME[rm], scaled);
        return td_mem(o, 4, load, rt, rn, rm, 0);
    } else {
        return 0;
    }
    return td_mem(o, 4, load, rt, rn, -1, disp);
}

static int branch_wide(unsigned hw1, unsigned hw2, int64_t address, td_insn *o) {
    int64_t s = hw1 >> 10 & 1, j1 = hw2 >> 13 & 1, j2 = hw2 >> 11 & 1, target;
    char v[32];
    o->size = 4;
    o->has_target = 1;
    if (hw2 & 0x1000) {  /* B.W (T4) or BL (T1) */
        int64_t i1 = 1 ^ j1 ^ s, i2 = 1 ^ j2 ^ s;
        int64_t offset = s << 24 | i1 << 23 | i2 << 22 | (int64_t)(hw1 & 0x3FF) << 12 |
                         (int64_t)(hw2 & 0x7FF) << 1;
        target = (address + 4 + offset - (s << 25)) & 0xFFFFFFFF;
        td_imm(v, target);
        o->target = target;
        o->branch = BR_ALWAYS;
        if (hw2 & 0x4000) {
            td_text(o, "bl %s", v);
            o->cls = C_BL;
            td_regs_of(&o->reads, 1, ID_PC);
            td_regs_of(&o->writes, 2, ID_LR, ID_PC);
        } else {
            td_text(o, "b.w %s", v);
            o->cls = C_BRANCH;
        }
        return 1;
    }
    if (hw2 & 0x4000)
        return 0;
    unsigned cond = hw1 >> 6 & 0xF;
    if (cond >= 14) {  /* (hints, barriers; MSR, MRS) */
        o->has_target = 0;
        return td_system_wide(hw1, hw2, o);
    }
    int64_t offset = s << 20 | j2 << 19 | j1 << 18 | (int64_t)(hw1 & 0x3F) << 12 |
                     (int64_t)(hw2 & 0x7FF) << 1;
    target = (address + 4 + offset - (s << 21)) & 0xFFFFFFFF;
    td_imm(v, target);
    td_text(o, "b%s.w %s", CONDITIONS[cond], v);
    o->cls = C_BRANCH_COND;
    o->branch = BR_COND;
    o->target = target;
    return 1;
}

int td_wide(unsigned hw1, unsigned hw2, int64_t address, td_insn *o) {
    td_start(o, 4, C_ALU);
    if (hw1 >> 11 == 0b11110) {
        if (hw2 & 0x8000)
            return branch_wide(hw1, hw2, address, o);
        if ((hw1 & 0x0200) == 0)
            return modified_immediate(hw1, hw2, o);
        if ((hw1 & 0xFB70) == 0xF240)  /* MOVW, MOVT (bit 7: thumb_wide's 0xF2C0) */
            return movw_movt(hw1, hw2, o);
        if ((hw1 & 0xFF50) == 0xF300)  /* SSAT, USAT (bit 7), and their 16-bit forms */
            return td_saturate(hw1, hw2, o);
        return td_plain_immediate(hw1, hw2, o);
    }
    if ((hw1 & 0xFE00) == 0xEA00)
        return shifted_register(hw1, hw2, o);
    if ((hw1 & 0xFF80) == 0xFA00)  /* (bit 7 of hw2: SXTH.W, UXTAB, ...) */
        return hw2 & 0x80 ? td_extend(hw1, hw2, o) : td_shift_register(hw1, hw2, o);
    if ((hw1 & 0xFF80) == 0xFA80)
        return td_parallel_and_misc(hw1, hw2, o);
    if ((hw1 & 0xFF80) == 0xFB00)
        return multiply(hw1, hw2, o);
    if ((hw1 & 0xFFD0) == 0xFB90)
        return td_divide(hw1, hw2, o);
    if ((hw1 & 0xFF90) == 0xFB80 && (hw2 & 0xF0) == 0)  /* SMULL/UMULL/SMLAL/UMLAL */
        return long_multiply(hw1, hw2, o);
    if ((hw1 & 0xFF60) == 0xE940)  /* LDRD/STRD (immediate, offset) */
        return td_load_store_dual(hw1, hw2, o);
    if ((hw1 & 0xFE60) == 0xE860)  /* LDRD/STRD (immediate, pre- or post-indexed) */
        return td_load_store_dual_writeback(hw1, hw2, o);
    if (hw1 == 0xE92D || hw1 == 0xE8BD)
        return td_pop_push_wide(hw1, hw2, o);
    if ((hw1 & 0xFFF0) == 0xE8D0)
        return td_table_branch(hw1, hw2, o);
    if ((hw1 & 0xFFC0) == 0xE880 || (hw1 & 0xFFC0) == 0xE900)
        return td_load_store_multiple(hw1, hw2, o);
    if ((hw1 & 0xFE00) == 0xF800)
        return load_store(hw1, hw2, o);
    if ((hw1 & 0xFF20) == 0xED00)
        return td_load_store_fp(hw1, hw2, o);
    if ((hw1 & 0xFFE0) == 0xEC40 || ((hw1 & 0xFFE0) == 0xEE00 && (hw2 & 0x10)))
        return td_move_fp(hw1, hw2, o);
    if ((hw1 & 0xFF80) == 0xEC80 || (hw1 & 0xFFA0) == 0xED20)
        return td_load_store_multiple_fp(hw1, hw2, o);
    if ((hw1 == 0xEEE1 || hw1 == 0xEEF1) && (hw2 & 0x10))
        return td_fpscr_move(hw1, hw2, o);
    if ((hw1 & 0xFF00) == 0xEE00)  /* (hw2 bit 4 clear: data processing) */
        return (hw1 & 0xB0) == 0xB0 ? td_other_fp(hw1, hw2, o) : td_arithmetic_fp(hw1, hw2, o);
    return 0;
}
