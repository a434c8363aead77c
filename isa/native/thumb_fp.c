/* The floating-point loads, stores and moves of the native table classifier, line by line the
 * decisions of isa/thumb_fp.py (VLDR/VSTR, VMOV core <-> S and core pair <-> D). */
#include "thumb_narrow.h"

#include <stdio.h>

#define ID_S0 79  /* capstone's ARM_REG_S0 and ARM_REG_D0 (S0-S31, D0-D31 consecutive) */
#define ID_D0 14

/* Capstone's id of D(extra:number) or S(number:extra), its name into `name`. */
static int fp_register(int is_double, unsigned number, unsigned extra, char name[8]) {
    if (is_double) {
        unsigned n = extra << 4 | number;
        td_format(name, 8, "d%u", n);
        return ID_D0 + (int)n;
    }
    unsigned n = number << 1 | extra;
    td_format(name, 8, "s%u", n);
    return ID_S0 + (int)n;
}

int td_load_store_fp(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, up = (hw1 & 0x80) != 0, store = !(hw1 & 0x10);
    int64_t value = (hw2 & 0xFF) * 4;
    if ((hw2 & 0x0E00) != 0x0A00 || (!up && !value) || (store && rn == 15))
        return 0;  /* (other coprocessors; "#-0"; UNPREDICTABLE) */
    char name[8], v[32], offset[40] = "";
    int reg = fp_register(hw2 & 0x100, hw2 >> 12, hw1 >> 6 & 1, name);
    int64_t disp = up ? value : -value;
    if (disp) {
        td_imm(v, disp);
        td_format(offset, sizeof offset, ", %s", v);
    }
    int n = REG[rn];
    td_text(o, "%s %s, [%s%s]", store ? "vstr" : "vldr", name, NAME[rn], offset);
    o->size = 4;
    o->mem_base = n;
    o->disp = disp;
    o->span = 8;
    if (store) {
        o->cls = C_VSTR;
        td_regs_of(&o->reads, 2, n, reg);
    } else {
        o->cls = C_VLDR;
        td_regs_of(&o->reads, 1, n);
        td_regs_of(&o->writes, 1, reg);
        o->dest = reg;
    }
    return 1;
}

int td_move_fp(unsigned hw1, unsigned hw2, td_insn *o) {
    int rt = hw2 >> 12, to_core = (hw1 & 0x10) != 0;
    if (rt == 13 || rt == 15)
        return 0;
    int t = REG[rt];
    char name[8];
    o->size = 4;
    if ((hw1 & 0xFFE0) == 0xEE00) {
        if ((hw2 & 0x0F7F) != 0x0A10)
            return 0;
        int reg = fp_register(0, hw1 & 0xF, hw2 >> 7 & 1, name);
        o->cls = C_VMOV_CORE;
        if (to_core) {
            td_text(o, "vmov %s, %s", NAME[rt], name);
            td_regs_of(&o->reads, 1, reg);
            td_regs_of(&o->writes, 1, t);
            o->dest = t;
        } else {
            td_text(o, "vmov %s, %s", name, NAME[rt]);
            td_regs_of(&o->reads, 1, t);
            td_regs_of(&o->writes, 1, reg);
            o->dest = reg;
        }
        return 1;
    }
    int rt2 = hw1 & 0xF;
    if ((hw2 & 0x0FD0) != 0x0B10 || rt2 == 13 || rt2 == 15 || (to_core && rt == rt2))
        return 0;  /* (the S-pair form; UNPREDICTABLE) */
    int reg = fp_register(1, hw2 & 0xF, hw2 >> 5 & 1, name), t2 = REG[rt2];
    o->cls = C_VMOV_CORE2;
    if (to_core) {
        td_text(o, "vmov %s, %s, %s", NAME[rt], NAME[rt2], name);
        td_regs_of(&o->reads, 1, reg);
        td_regs_of(&o->writes, 2, t, t2);
        o->dest = t;
    } else {
        td_text(o, "vmov %s, %s, %s", name, NAME[rt], NAME[rt2]);
        td_regs_of(&o->reads, 2, t, t2);
        td_regs_of(&o->writes, 1, reg);
        o->dest = reg;
    }
    return 1;
}

int td_load_store_multiple_fp(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, load = (hw1 & 0x10) != 0, writeback = (hw1 & 0x20) != 0;
    int increment = (hw1 & 0xFF80) == 0xEC80, is_double = (hw2 & 0x100) != 0;
    unsigned words = hw2 & 0xFF;
    unsigned first = is_double ? (hw2 >> 12) | (hw1 >> 6 & 1) << 4
                               : (hw2 >> 12) << 1 | (hw1 >> 6 & 1);
    unsigned count = is_double ? words / 2 : words;
    if ((hw2 & 0x0E00) != 0x0A00 || !(increment || writeback) || rn == 15 || !count ||
        (is_double && ((words & 1) || count > 16)) || first + count > 32)
        return 0;  /* (other coprocessors; FLDMX; UNPREDICTABLE) */
    char names[TEXT_MAX * 2];
    int at = td_format(names, sizeof names, "{");
    for (unsigned k = 0; k < count; k++)
        at += td_format(names + at, (int)sizeof names - at, "%s%s%u", k ? ", " : "",
                        is_double ? "d" : "s", first + k);
    td_format(names + at, (int)sizeof names - at, "}");
    const char *cls = load ? "vldm" : "vstm";
    o->size = 4;
    o->cls = load ? C_VLDM : C_VSTM;
    o->nregs = (int)words;
    if (rn == 13 && writeback && ((hw1 & 0xFFB0) == 0xECB0 || (hw1 & 0xFFB0) == 0xED20) &&
        increment == load) {  /* VPOP (LDMIA SP!) and VPUSH (STMDB SP!) */
        td_text(o, "%s %s", load ? "vpop" : "vpush", names);
        int base = is_double ? ID_D0 : ID_S0;
        o->reads.n = o->writes.n = 0;
        for (unsigned k = 0; k < count; k++)
            o->reads.id[o->reads.n++] = o->writes.id[o->writes.n++] = (uint8_t)(base + first + k);
        o->dest = base + (int)first;
        o->sp_delta = load ? 4 * (int64_t)words : -4 * (int64_t)words;
        return 1;
    }
    if (rn == 13)
        return 0;  /* (SP otherwise: capstone's SP change is not a constant) */
    int n = REG[rn];
    td_text(o, "%s%s %s%s, %s", cls, increment ? "ia" : "db", NAME[rn], writeback ? "!" : "",
            names);
    td_regs_of(&o->reads, 1, n);
    if (writeback) {
        td_regs_of(&o->writes, 1, n);
        o->dest = n;
        o->writeback = 1;
    }
    return 1;
}

/* thumb_fp._ARITHMETIC by opc1 (hw1 bits 7, 5, 4 as 0xB0 bits) and op (hw2 bit 6) */
static const struct { unsigned opc1; int op; const char *name; int cls; } ARITHMETIC[] = {
    {0x00, 0, "vmla", C_VFP_MAC}, {0x00, 1, "vmls", C_VFP_MAC}, {0x10, 0, "vnmls", C_VFP_MAC},
    {0x10, 1, "vnmla", C_VFP_MAC}, {0x20, 0, "vmul", C_VFP_ALU}, {0x20, 1, "vnmul", C_VFP_ALU},
    {0x30, 0, "vadd", C_VFP_ALU}, {0x30, 1, "vsub", C_VFP_ALU}, {0x80, 0, "vdiv", C_VFP_DIV},
    {0xA0, 0, "vfma", C_VFP_MAC}, {0xA0, 1, "vfms", C_VFP_MAC}, {0x90, 0, "vfnms", C_VFP_MAC},
    {0x90, 1, "vfnma", C_VFP_MAC}};

int td_arithmetic_fp(unsigned hw1, unsigned hw2, td_insn *o) {
    unsigned opc1 = hw1 & 0xB0;
    int op = hw2 >> 6 & 1, found = -1;
    for (int k = 0; k < (int)(sizeof ARITHMETIC / sizeof *ARITHMETIC); k++)
        if (ARITHMETIC[k].opc1 == opc1 && ARITHMETIC[k].op == op)
            found = k;
    if (found < 0 || (hw2 & 0x0E10) != 0x0A00)
        return 0;
    int is_double = (hw2 & 0x100) != 0;
    char dn[8], nn[8], mn[8];
    int d = fp_register(is_double, hw2 >> 12, hw1 >> 6 & 1, dn);
    int n = fp_register(is_double, hw1 & 0xF, hw2 >> 7 & 1, nn);
    int m = fp_register(is_double, hw2 & 0xF, hw2 >> 5 & 1, mn);
    td_text(o, "%s.%s %s, %s, %s", ARITHMETIC[found].name, is_double ? "f64" : "f32", dn, nn,
            mn);
    o->size = 4;
    o->cls = ARITHMETIC[found].cls;
    if (o->cls == C_VFP_MAC)  /* (they read their accumulator too) */
        td_regs_of(&o->reads, 3, d, n, m);
    else
        td_regs_of(&o->reads, 2, n, m);
    td_regs_of(&o->writes, 1, d);
    o->dest = d;
    return 1;
}

#define ID_FPSCR 6  /* capstone's ARM_REG_FPSCR, ARM_REG_FPSCR_NZCV */
#define ID_FPSCR_NZCV 7

/* thumb_fp._vfp_immediate (VFPExpandImm) */
static double vfp_immediate(unsigned imm8) {
    int exponent = imm8 & 0x40 ? (int)(imm8 >> 4 & 3) - 3 : (int)(imm8 >> 4 & 3) + 1;
    double scale = exponent >= 0 ? (double)(1 << exponent) : 1.0 / (1 << -exponent);
    double value = (1 + (imm8 & 0xF) / 16.0) * scale;  /* (exact: -3 <= exponent <= 4) */
    return imm8 & 0x80 ? -value : value;
}

/* thumb_fp._OTHER by opc2 * 2 + o3 (NULL: none) */
static const char *const OTHER[28] = {
    [0] = "vmov.f32", [1] = "vabs.f32", [2] = "vneg.f32", [3] = "vsqrt.f32", [8] = "vcmp.f32",
    [9] = "vcmpe.f32", [10] = "vcmp.f32", [11] = "vcmpe.f32", [16] = "vcvt.f32.u32",
    [17] = "vcvt.f32.s32", [24] = "vcvtr.u32.f32", [25] = "vcvt.u32.f32",
    [26] = "vcvtr.s32.f32", [27] = "vcvt.s32.f32"};

int td_other_fp(unsigned hw1, unsigned hw2, td_insn *o) {
    if ((hw2 & 0x0F10) != 0x0A00)
        return 0;  /* (double precision; other coprocessors) */
    char dn[8], mn[8];
    int d = fp_register(0, hw2 >> 12, hw1 >> 6 & 1, dn);
    o->size = 4;
    o->cls = C_VFP_ALU;
    if (!(hw2 & 0x40)) {  /* VMOV.F32 Sd, #imm */
        if (hw2 & 0xA0)
            return 0;
        char value[40];
        snprintf(value, sizeof value, "%e", vfp_immediate((hw1 & 0xF) << 4 | (hw2 & 0xF)));
        td_text(o, "vmov.f32 %s, #%s", dn, value);
        td_regs_of(&o->writes, 1, d);
        o->dest = d;
        return 1;
    }
    unsigned opc2 = hw1 & 0xF;
    const char *name = opc2 < 14 ? OTHER[opc2 * 2 + (hw2 >> 7 & 1)] : NULL;
    if (name == NULL)
        return 0;
    if (opc2 == 5) {  /* VCMP{E} Sd, #0 */
        if (hw2 & 0x2F)
            return 0;
        td_text(o, "%s %s, #0", name, dn);
        td_regs_of(&o->reads, 1, d);
        td_regs_of(&o->writes, 1, ID_FPSCR_NZCV);
        return 1;
    }
    int m = fp_register(0, hw2 & 0xF, hw2 >> 5 & 1, mn);
    td_text(o, "%s %s, %s", name, dn, mn);
    if (opc2 == 4) {
        td_regs_of(&o->reads, 2, d, m);
        td_regs_of(&o->writes, 1, ID_FPSCR_NZCV);
        return 1;
    }
    if (name[4] == 'r')  /* vcvtr: rounds as FPSCR says */
        td_regs_of(&o->reads, 2, m, ID_FPSCR);
    else
        td_regs_of(&o->reads, 1, m);
    td_regs_of(&o->writes, 1, d);
    o->dest = d;
    if (opc2 == 1 && (hw2 & 0x80))
        o->cls = C_VFP_SQRT;
    return 1;
}

int td_fpscr_move(unsigned hw1, unsigned hw2, td_insn *o) {
    int rt = hw2 >> 12;
    if ((hw2 & 0x0FFF) != 0x0A10 || rt == 13)
        return 0;
    o->size = 4;
    if (hw1 == 0xEEE1) {  /* (capstone: VMSR lists no register read) */
        if (rt == 15)
            return 0;
        td_text(o, "vmsr fpscr, %s", NAME[rt]);
        o->cls = C_VMRS;
        td_regs_of(&o->writes, 1, ID_FPSCR);
        o->dest = ID_FPSCR;
        return 1;
    }
    if (rt == 15) {
        td_text(o, "vmrs apsr_nzcv, fpscr");
        o->cls = C_VFP_ALU;
        td_regs_of(&o->reads, 1, ID_FPSCR_NZCV);
        td_regs_of(&o->writes, 1, ID_CPSR);
        return 1;
    }
    td_text(o, "vmrs %s, fpscr", NAME[rt]);
    o->cls = C_VMRS;
    td_regs_of(&o->reads, 1, ID_FPSCR);
    td_regs_of(&o->writes, 1, REG[rt]);
    o->dest = REG[rt];
    return 1;
}
