/* The floating-point loads, stores and moves of the native table classifier, line by line the
 * decisions of isa/thumb_fp.py (VLDR/VSTR, VMOV core <-> S and core pair <-> D). */
#include "thumb_narrow.h"

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
