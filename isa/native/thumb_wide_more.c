/* More 32-bit encodings of the native table classifier, line by line the decisions of
 * isa/thumb_wide_more.py: shifts, bit-field extracts, ADDW/SUBW, LDRD/STRD (offset). */
#include "thumb_narrow.h"

#include <string.h>

static const char *const SHIFTS[4] = {"lsl", "lsr", "asr", "ror"};

static int sp_or_pc(int r) { return r == 13 || r == 15; }

int td_shift_immediate(unsigned hw1, unsigned hw2, td_insn *o) {
    int rd = hw2 >> 8 & 0xF, rm = hw2 & 0xF;
    if (sp_or_pc(rd) || sp_or_pc(rm))
        return 0;
    unsigned kind = hw2 >> 4 & 3, amount = (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3);
    const char *s = hw1 & 0x10 ? "s" : "";
    int d = REG[rd], m = REG[rm];
    if (kind == 3 && amount == 0) {
        td_text(o, "rrx%s %s, %s", s, NAME[rd], NAME[rm]);
        td_regs_of(&o->reads, 2, m, ID_CPSR);
    } else {
        char v[32];
        td_imm(v, amount ? amount : 32);
        td_text(o, "%s%s.w %s, %s, %s", SHIFTS[kind], s, NAME[rd], NAME[rm], v);
        td_regs_of(&o->reads, 1, m);
    }
    td_regs_of(&o->writes, 1, d);
    td_alu(o, 4, d, C_ALU);
    return 1;
}

int td_shift_register(unsigned hw1, unsigned hw2, td_insn *o) {
    if ((hw2 & 0xF0F0) != 0xF000)
        return 0;
    int rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF, rm = hw2 & 0xF;
    if (sp_or_pc(rn) || sp_or_pc(rd) || sp_or_pc(rm))
        return 0;
    int d = REG[rd];
    td_text(o, "%s%s.w %s, %s, %s", SHIFTS[hw1 >> 5 & 3], hw1 & 0x10 ? "s" : "", NAME[rd],
            NAME[rn], NAME[rm]);
    td_regs_of(&o->reads, 2, REG[rn], REG[rm]);
    td_regs_of(&o->writes, 1, d);
    td_alu(o, 4, d, C_ALU);
    return 1;
}

int td_plain_immediate(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rd = hw2 >> 8 & 0xF;
    int n = REG[rn], d = REG[rd];
    unsigned op = hw1 & 0xFBF0;
    char v[32], w[32];
    if (op == 0xF200 || op == 0xF2A0) {
        /* (Rn PC: ADR, printed so; SP only as Rn, and as Rd of SP, SP) */
        if (rd == 15 || (rd == 13 && rn != 13))
            return 0;
        int value = (hw1 >> 10 & 1) << 11 | (hw2 >> 12 & 7) << 8 | (hw2 & 0xFF);
        td_imm(v, value);
        td_text(o, "%s %s, %s, %s", op == 0xF200 ? "addw" : "subw", NAME[rd], NAME[rn], v);
        if (rd == 13)  /* SP moves by a constant */
            o->sp_delta = op == 0xF200 ? value : -value;
    } else if (sp_or_pc(rn) || sp_or_pc(rd)) {
        return 0;
    } else if (((hw1 & 0xFFF0) == 0xF3C0 || (hw1 & 0xFFF0) == 0xF340) && !(hw2 & 0x20)) {
        unsigned lsb = (hw2 >> 12 & 7) << 2 | (hw2 >> 6 & 3), width = (hw2 & 0x1F) + 1;
        if (lsb + width > 32)
            return 0;  /* UNPREDICTABLE */
        td_imm(v, lsb);
        td_imm(w, width);
        td_text(o, "%s %s, %s, %s, %s", hw1 & 0x80 ? "ubfx" : "sbfx", NAME[rd], NAME[rn], v, w);
    } else {
        return 0;
    }
    td_regs_of(&o->reads, 1, n);
    td_regs_of(&o->writes, 1, d);
    td_alu(o, 4, d, C_ALU);
    return 1;
}

int td_load_store_dual(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rt = hw2 >> 12, rt2 = hw2 >> 8 & 0xF;
    int load = (hw1 & 0x10) != 0;
    if (rn == 15 || sp_or_pc(rt) || sp_or_pc(rt2) || (load && rt == rt2))
        return 0;  /* (literal; UNPREDICTABLE) */
    int64_t disp = (hw2 & 0xFF) * 4;
    char v[32], offset[40] = "";
    if (hw1 & 0x80) {
        if (disp) {
            td_imm(v, disp);
            td_format(offset, sizeof offset, ", %s", v);
        }
    } else {
        td_negative_hex(v, (uint64_t)disp);  /* (subtracted: always hex, even 0) */
        td_format(offset, sizeof offset, ", %s", v);
        disp = -disp;
    }
    int n = REG[rn], t = REG[rt], t2 = REG[rt2];
    td_text(o, "%s %s, %s, [%s%s]", load ? "ldrd" : "strd", NAME[rt], NAME[rt2], NAME[rn],
            offset);
    o->size = 4;
    o->mem_base = n;
    o->disp = disp;
    o->span = 8;
    if (load) {
        o->cls = C_LDRD;
        td_regs_of(&o->reads, 1, n);
        td_regs_of(&o->writes, 2, t, t2);
        o->dest = t;
    } else {
        o->cls = C_STRD;
        td_regs_of(&o->reads, 3, n, t, t2);
    }
    return 1;
}

int td_load_store_writeback(const char *name, unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rt = hw2 >> 12;
    int pre = (hw2 & 0x400) != 0, up = (hw2 & 0x200) != 0;
    if (!(hw2 & 0x100) || rn == 15 || rt == 13 || rn == rt || (rt == 15 && strcmp(name, "ldr")))
        return 0;  /* (no writeback: unprivileged; PC; UNPREDICTABLE) */
    int64_t value = hw2 & 0xFF, disp = 0;
    int n = REG[rn], t = REG[rt];
    char v[32];
    if (pre) {
        disp = up ? value : -value;
        if (up)
            td_imm(v, disp);
        else
            td_negative_hex(v, (uint64_t)value);  /* (subtracted: always hex, even 0) */
        td_text(o, "%s %s, [%s, %s]!", name, NAME[rt], NAME[rn], v);
    } else {  /* (capstone: the memory operand is [Rn]; the change, an immediate operand) */
        if (up || value)
            td_imm(v, up ? value : -value);
        else
            td_format(v, sizeof v, "#-0");
        td_text(o, "%s %s, [%s], %s", name, NAME[rt], NAME[rn], v);
    }
    o->size = 4;
    o->base = o->mem_base = n;
    o->disp = disp;
    o->span = 8;
    o->writeback = 1;
    if (rn == 13)  /* (LDR Rt, [SP], #4: a pop) */
        o->sp_delta = up ? value : -value;
    if (rt == 15) {  /* LDR PC, [SP], #4: a return (capstone: no single load's own fields) */
        o->base = 0;
        o->cls = C_LDR_PC;
        o->branch = BR_ALWAYS;
        o->dest = ID_PC;
        td_regs_of(&o->reads, 1, n);
        td_regs_of(&o->writes, 2, ID_PC, n);
        return 1;
    }
    if (name[0] == 'l') {
        o->cls = C_LDR;
        o->load = 1;
        o->dest = t;
        td_regs_of(&o->reads, 1, n);
        td_regs_of(&o->writes, 2, n, t);
    } else {
        o->cls = C_STR;
        o->store = 1;
        td_regs_of(&o->reads, 2, n, t);
        td_regs_of(&o->writes, 1, n);
    }
    return 1;
}
