/* The 32-bit DSP-style encodings of the native table classifier, line by line the decisions
 * of isa/thumb_dsp.py (saturation, wide extends, CLZ/REV/RBIT, parallel add/subtract, QADD,
 * SEL, SDIV/UDIV), capstone's operand quirks included. */
#include "thumb_narrow.h"

#include <stddef.h>

static int low(int r) { return r != 13 && r != 15; }

int td_saturate(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF;
    if ((hw2 & 0x8020) || (hw1 & 0x0400) || !low(rn) || !low(rd))
        return 0;
    int is_unsigned = (hw1 & 0x80) != 0, shift_right = (hw1 & 0x20) != 0;
    unsigned amount = (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3), width;
    const char *name;
    char v[32], shift[40] = "";
    if (shift_right && !amount) {  /* the 16-bit halves form */
        if (hw2 & 0x10)
            return 0;
        width = is_unsigned ? hw2 & 0xF : (hw2 & 0xF) + 1;
        name = is_unsigned ? "usat16" : "ssat16";
    } else {
        width = is_unsigned ? hw2 & 0x1F : (hw2 & 0x1F) + 1;
        name = is_unsigned ? "usat" : "ssat";
        if (amount) {
            td_imm(v, amount);
            td_format(shift, sizeof shift, ", %s %s", shift_right ? "asr" : "lsl", v);
        }
    }
    td_imm(v, width);
    td_text(o, "%s %s, %s, %s%s", name, NAME[rd], v, NAME[rn], shift);
    td_regs_of(&o->reads, 0);  /* (capstone lists no register read) */
    td_regs_of(&o->writes, 1, REG[rd]);
    td_alu(o, 4, REG[rd], C_DSP);
    return 1;
}

static const char *const EXTENDS[6] = {"sxth", "uxth", "sxtb16", "uxtb16", "sxtb", "uxtb"};
static const char *const EXTEND_ADDS[6] = {"sxtah", "uxtah", "sxtab16", "uxtab16", "sxtab",
                                           "uxtab"};

int td_extend(unsigned hw1, unsigned hw2, td_insn *o) {
    unsigned op = hw1 >> 4 & 7, rotation = hw2 >> 4 & 3;
    int rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF, rm = hw2 & 0xF;
    if (op > 5 || (hw2 & 0xF0C0) != 0xF080 || !low(rd) || !low(rm) || rn == 13)
        return 0;
    char rotated[16] = "";
    if (rotation)
        td_format(rotated, sizeof rotated, ", ror #%u", 8 * rotation);
    int d = REG[rd];
    td_regs_of(&o->writes, 1, d);
    if (rn == 15) {
        int wide = op == 0 || op == 1 || op == 4 || op == 5;  /* (a 16-bit encoding exists) */
        td_text(o, "%s%s %s, %s%s", EXTENDS[op], wide ? ".w" : "", NAME[rd], NAME[rm], rotated);
        td_regs_of(&o->reads, 1, REG[rm]);
        td_alu(o, 4, d, wide ? C_ALU : C_DSP);
        return 1;
    }
    /* (capstone lists only Rn among the registers read) */
    td_text(o, "%s %s, %s, %s%s", EXTEND_ADDS[op], NAME[rd], NAME[rn], NAME[rm], rotated);
    td_regs_of(&o->reads, 1, REG[rn]);
    td_alu(o, 4, d, C_DSP);
    return 1;
}

static const char *const PREFIXES[8] = {"s", "q", "sh", NULL, "u", "uq", "uh", NULL};
static const char *const OPERATIONS[8] = {"add8", "add16", "asx", NULL, "sub8", "sub16", "sax",
                                          NULL};

/* thumb_dsp._MISC by op1 * 4 + (op2 - 8): name (NULL: none), class, one register twice */
static const struct { const char *name; int cls, single; } MISC[16] = {
    {"qadd", C_DSP, 0}, {"qdadd", C_DSP, 0}, {"qsub", C_DSP, 0}, {"qdsub", C_DSP, 0},
    {"rev.w", C_ALU, 1}, {"rev16.w", C_ALU, 1}, {"rbit", C_ALU, 1}, {"revsh.w", C_ALU, 1},
    {"sel", C_DSP, 0}, {NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0},
    {"clz", C_ALU, 1}, {NULL, 0, 0}, {NULL, 0, 0}, {NULL, 0, 0}};

int td_parallel_and_misc(unsigned hw1, unsigned hw2, td_insn *o) {
    unsigned op1 = hw1 >> 4 & 7, op2 = hw2 >> 4 & 0xF;
    int rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF, rm = hw2 & 0xF;
    if ((hw2 & 0xF000) != 0xF000 || !low(rn) || !low(rd) || !low(rm))
        return 0;
    int d = REG[rd];
    td_regs_of(&o->writes, 1, d);
    if (op2 < 8) {
        if (PREFIXES[op2] == NULL || OPERATIONS[op1] == NULL)
            return 0;
        td_text(o, "%s%s %s, %s, %s", PREFIXES[op2], OPERATIONS[op1], NAME[rd], NAME[rn],
                NAME[rm]);
        td_regs_of(&o->reads, 2, REG[rn], REG[rm]);
        td_alu(o, 4, d, C_DSP);
        return 1;
    }
    if (op1 > 3 || op2 - 8 > 3 || MISC[op1 * 4 + op2 - 8].name == NULL)
        return 0;
    const char *name = MISC[op1 * 4 + op2 - 8].name;
    int cls = MISC[op1 * 4 + op2 - 8].cls;
    if (MISC[op1 * 4 + op2 - 8].single) {
        if (rn != rm)
            return 0;  /* UNPREDICTABLE */
        td_text(o, "%s %s, %s", name, NAME[rd], NAME[rm]);
        td_regs_of(&o->reads, 1, REG[rm]);
    } else {
        if (op1 == 2)  /* SEL Rd, Rn, Rm; the QADDs print Rm first */
            td_text(o, "sel %s, %s, %s", NAME[rd], NAME[rn], NAME[rm]);
        else
            td_text(o, "%s %s, %s, %s", name, NAME[rd], NAME[rm], NAME[rn]);
        td_regs_of(&o->reads, 2, REG[rn], REG[rm]);
    }
    td_alu(o, 4, d, cls);
    return 1;
}

int td_divide(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF, rm = hw2 & 0xF;
    if ((hw2 & 0xF0F0) != 0xF0F0 || !low(rn) || !low(rd) || !low(rm))
        return 0;
    int n = REG[rn], m = REG[rm], d = REG[rd];
    td_text(o, "%s %s, %s, %s", hw1 & 0x20 ? "udiv" : "sdiv", NAME[rd], NAME[rn], NAME[rm]);
    td_regs_of(&o->reads, 2, n, m);
    td_regs_of(&o->writes, 1, d);
    o->nsources = 2;
    o->sources[0] = n, o->sources[1] = m;
    td_alu(o, 4, d, C_DIV);
    return 1;
}
