/* More 32-bit loads and stores of the native table classifier, line by line the decisions of
 * isa/thumb_memory.py (LDM/STM, POP.W/PUSH.W, LDRD/STRD with writeback, PLD), capstone's
 * quirks included. */
#include "thumb_narrow.h"

/* thumb_memory.register_list: the registers of `mask` into listed (their number), their
 * text into `names` ({r0, r1, lr}). */
static int register_list(unsigned mask, int listed[16], char names[TEXT_MAX]) {
    int n = 0, at = td_format(names, TEXT_MAX, "{");
    for (int r = 0; r < 16; r++)
        if (mask >> r & 1) {
            at += td_format(names + at, TEXT_MAX - at, "%s%s", n ? ", " : "", NAME[r]);
            listed[n++] = r;
        }
    td_format(names + at, TEXT_MAX - at, "}");
    return n;
}

static void list_regs(td_regs *r, const int *listed, int n) {
    for (int k = 0; k < n; k++)
        r->id[r->n++] = REG[listed[k]];
}

/* A load multiple's class: LDM, or LDM_PC when the PC is in its list (not counted in nregs). */
static int load_multiple_class(td_insn *o, unsigned loads_pc, int count) {
    if (loads_pc) {
        o->cls = C_LDM_PC;
        o->nregs = count - 1;
        o->branch = BR_ALWAYS;
    } else {
        o->cls = C_LDM;
        o->nregs = count;
    }
    return 1;
}

int td_load_store_multiple(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, load = (hw1 & 0x10) != 0, writeback = (hw1 & 0x20) != 0;
    int before = (hw1 & 0x0100) != 0;
    if (rn == 13 || rn == 15 || __builtin_popcount(hw2 & 0xDFFF) < 2 || (hw2 & 0x2000))
        return 0;
    if ((writeback && (hw2 >> rn & 1)) || (load && (hw2 & 0xC000) == 0xC000) ||
        (!load && (hw2 & 0x8000)))
        return 0;  /* UNPREDICTABLE */
    int listed[16];
    char names[TEXT_MAX];
    int count = register_list(hw2, listed, names), n = REG[rn];
    td_text(o, "%s%s %s%s, %s", load ? "ldm" : "stm", before ? "db" : ".w", NAME[rn],
            writeback ? "!" : "", names);
    o->size = 4;
    o->writeback = writeback;
    o->mem_base = n;
    o->span = 4 * (count + 1);  /* (capstone counts the base register among the operands) */
    if (load) {
        td_regs_of(&o->reads, 1, n);
        o->writes.n = 0;
        list_regs(&o->writes, listed, count);
        int base_written = writeback || (hw2 >> rn & 1);
        if (writeback)
            o->writes.id[o->writes.n++] = (uint8_t)n;
        o->dest = base_written ? n : 0;
        return load_multiple_class(o, hw2 & 0x8000, count);
    }
    /* (capstone: STMDB Rn! lists no register written, STM Rn! lists Rn) */
    o->cls = C_STM;
    o->nregs = count;
    o->reads.n = 0;
    list_regs(&o->reads, listed, count);
    o->reads.id[o->reads.n++] = (uint8_t)n;
    if (writeback && !before) {
        td_regs_of(&o->writes, 1, n);
        o->dest = n;
    }
    return 1;
}

int td_load_store_multiple_narrow(unsigned hw, td_insn *o) {
    int rn = hw >> 8 & 7, load = (hw & 0x800) != 0;
    unsigned mask = hw & 0xFF;
    if (!mask || (!load && (mask >> rn & 1)))
        return 0;  /* (UNPREDICTABLE) */
    int writeback = !(load && (mask >> rn & 1)), listed[16], n = REG[rn];
    char names[TEXT_MAX];
    int count = register_list(mask, listed, names);
    td_text(o, "%s %s%s, %s", load ? "ldm" : "stm", NAME[rn], writeback ? "!" : "", names);
    o->size = 2;
    o->nregs = count;
    o->dest = n;
    o->writeback = writeback;
    o->mem_base = n;
    o->span = 4 * (count + 1);  /* (capstone counts the base register among the operands) */
    if (load) {
        o->cls = C_LDM;
        td_regs_of(&o->reads, 1, n);
        o->writes.n = 0;
        list_regs(&o->writes, listed, count);
        if (writeback)
            o->writes.id[o->writes.n++] = (uint8_t)n;
    } else {
        o->cls = C_STM;
        o->reads.n = 0;
        list_regs(&o->reads, listed, count);
        o->reads.id[o->reads.n++] = (uint8_t)n;
        td_regs_of(&o->writes, 1, n);
    }
    return 1;
}

int td_table_branch(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rm = hw2 & 0xF;
    if ((hw2 & 0xFFE0) != 0xF000 || rn == 13 || rm == 13 || rm == 15)
        return 0;
    if (hw2 & 0x10)
        td_text(o, "tbh [%s, %s, lsl #1]", NAME[rn], NAME[rm]);
    else
        td_text(o, "tbb [%s, %s]", NAME[rn], NAME[rm]);
    o->size = 4;
    o->cls = C_TBB;
    td_regs_of(&o->reads, 2, REG[rn], REG[rm]);  /* (capstone: no register written) */
    o->branch = BR_ALWAYS;
    o->mem_base = REG[rn];
    o->mem_index = REG[rm];
    o->span = 8;
    return 1;
}

int td_pop_push_wide(unsigned hw1, unsigned hw2, td_insn *o) {
    int pop = hw1 == 0xE8BD;
    if (__builtin_popcount(hw2 & 0xDFFF) < 2 || (hw2 & 0x2000) ||
        (pop ? (hw2 & 0xC000) == 0xC000 : (hw2 & 0x8000) != 0))
        return 0;  /* (UNPREDICTABLE: SP; LR and PC; PC pushed) */
    int listed[16];
    char names[TEXT_MAX];
    int count = register_list(hw2, listed, names);
    td_text(o, "%s.w %s", pop ? "pop" : "push", names);
    o->size = 4;
    o->mem_base = ID_SP;
    o->span = 4 * count;
    if (!pop) {
        o->cls = C_STM;
        o->nregs = count;
        td_regs_of(&o->reads, 1, ID_SP);
        list_regs(&o->reads, listed, count);
        td_regs_of(&o->writes, 1, ID_SP);
        o->sp_delta = -4 * count;
        return 1;
    }
    td_regs_of(&o->reads, 1, ID_SP);
    td_regs_of(&o->writes, 1, ID_SP);
    list_regs(&o->writes, listed, count);
    o->dest = REG[listed[0]];
    o->sp_delta = 4 * count;
    return load_multiple_class(o, hw2 & 0x8000, count);
}

int td_load_store_dual_writeback(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF, rt = hw2 >> 12, rt2 = hw2 >> 8 & 0xF;
    int load = (hw1 & 0x10) != 0, pre = (hw1 & 0x0100) != 0, up = (hw1 & 0x80) != 0;
    if (rn == 15 || rt == 13 || rt == 15 || rt2 == 13 || rt2 == 15 || rn == rt || rn == rt2 ||
        (load && rt == rt2))
        return 0;  /* (UNPREDICTABLE) */
    int64_t value = (hw2 & 0xFF) * 4, change = up ? value : -value;
    char v[32], place[64];
    if (pre) {
        if (up)
            td_imm(v, change);
        else
            td_negative_hex(v, (uint64_t)value);  /* (subtracted: always hex, even 0) */
        td_format(place, sizeof place, "[%s, %s]!", NAME[rn], v);
        o->disp = change;
    } else {  /* (capstone: the memory operand is [Rn]; the change, an immediate operand) */
        if (up || value)
            td_imm(v, change);
        else
            td_format(v, sizeof v, "#-0");
        td_format(place, sizeof place, "[%s], %s", NAME[rn], v);
    }
    int n = REG[rn], t = REG[rt], t2 = REG[rt2];
    td_text(o, "%s %s, %s, %s", load ? "ldrd" : "strd", NAME[rt], NAME[rt2], place);
    o->size = 4;
    o->writeback = 1;
    o->mem_base = n;
    o->span = 8;
    o->sp_delta = rn == 13 ? change : 0;
    if (load) {
        o->cls = C_LDRD;
        td_regs_of(&o->reads, 1, n);
        td_regs_of(&o->writes, 3, n, t, t2);
        o->dest = t;
    } else {
        o->cls = C_STRD;
        td_regs_of(&o->reads, 3, n, t, t2);
        td_regs_of(&o->writes, 1, n);
    }
    return 1;
}

int td_preload(unsigned hw1, unsigned hw2, td_insn *o) {
    int rn = hw1 & 0xF;
    if (rn == 13)
        return 0;
    int n = REG[rn];
    char v[32], offset[40] = "";
    o->size = 4;
    o->cls = C_ALU;
    o->mem_base = n;
    o->span = 8;
    td_regs_of(&o->reads, 1, n);
    if (rn == 15 || (hw1 & 0x80)) {
        int64_t disp = hw2 & 0xFFF;
        if (rn == 15 && !(hw1 & 0x80)) {
            td_negative_hex(v, (uint64_t)disp);  /* (subtracted: always hex) */
            td_format(offset, sizeof offset, ", %s", v);
            disp = -disp;
        } else if (disp || rn == 15) {
            td_imm(v, disp);
            td_format(offset, sizeof offset, ", %s", v);
        }
        td_text(o, "pld [%s%s]", NAME[rn], offset);
        o->disp = disp;
        return 1;
    }
    if ((hw2 & 0x0F00) == 0x0C00) {
        td_negative_hex(v, hw2 & 0xFF);
        td_text(o, "pld [%s, %s]", NAME[rn], v);
        o->disp = -(int64_t)(hw2 & 0xFF);
        return 1;
    }
    int rm = hw2 & 0xF;
    unsigned shift = hw2 >> 4 & 3;
    if ((hw2 & 0x0FC0) || rm == 13 || rm == 15)
        return 0;
    char scaled[16] = "";
    if (shift)
        td_format(scaled, sizeof scaled, ", lsl #%u", shift);
    td_text(o, "pld [%s, %s%s]", NAME[rn], NAME[rm], scaled);
    td_regs_of(&o->reads, 2, n, REG[rm]);
    o->mem_index = REG[rm];
    return 1;
}
