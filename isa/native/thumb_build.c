/* The pieces the native table classifier's encodings share (thumb_narrow.c, thumb_wide.c,
 * thumb_wide_more.c, ...), as isa/thumb_fields.py is for the Python one: register names and
 * ids, and the builders of plain ALU, single load/store and 16-bit PUSH/POP instructions. */
#include "thumb_narrow.h"

#include <stdarg.h>
#include <string.h>

const char *const NAME[16] = {"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "sb",
                              "sl", "fp", "ip", "sp", "lr", "pc"};
const uint8_t REG[16] = {66, 67, 68, 69, 70, 71, 72, 73, 74, 75, 76, 77, 78, ID_SP, ID_LR,
                         ID_PC};
const char *const CONDITIONS[14] = {"eq", "ne", "hs", "lo", "mi", "pl", "vs", "vc", "hi",
                                    "ls", "ge", "lt", "gt", "le"};

void td_regs_of(td_regs *r, int n, ...) {
    va_list args;
    va_start(args, n);
    for (int k = 0; k < n; k++)
        r->id[k] = (uint8_t)va_arg(args, int);
    va_end(args);
    r->n = n;
}

void td_start(td_insn *o, int size, int cls) {
    memset(o, 0, sizeof *o);
    o->size = size;
    o->cls = cls;
}

void td_alu(td_insn *o, int size, int dest, int cls) {
    /* thumb_fields.alu (reads and writes set by the caller) */
    o->size = size;
    o->dest = dest;
    o->cls = cls;
}

int td_mem(td_insn *o, int size, int load, int rt, int rn, int rm, int64_t disp) {
    /* thumb_fields.mem: a single load or store, [rn, #disp] or [rn, rm], no writeback */
    int t = REG[rt], n = REG[rn], m = rm >= 0 ? REG[rm] : 0;
    o->size = size;
    if (load && t == ID_PC) {  /* a branch (capstone: none of a single load's own fields) */
        o->cls = C_LDR_PC;
        if (m)
            td_regs_of(&o->reads, 2, n, m);
        else
            td_regs_of(&o->reads, 1, n);
        td_regs_of(&o->writes, 1, ID_PC);
        o->branch = BR_ALWAYS;
        o->dest = ID_PC;
        o->mem_base = n;
        o->mem_index = m;
        o->disp = disp;
        o->span = 8;
        return 1;
    }
    o->reg_offset = m != 0;
    o->base = o->mem_base = n;
    o->index = o->mem_index = m;
    o->disp = disp;
    o->span = 8;
    if (load) {
        o->cls = C_LDR;
        if (m)
            td_regs_of(&o->reads, 2, n, m);
        else
            td_regs_of(&o->reads, 1, n);
        td_regs_of(&o->writes, 1, t);
        o->load = 1;
        o->dest = t;
    } else {
        o->cls = C_STR;
        if (m)
            td_regs_of(&o->reads, 3, t, n, m);
        else
            td_regs_of(&o->reads, 2, t, n);
        o->store = 1;
    }
    return 1;
}

int td_push_pop(td_insn *o, int pop, unsigned low, int extra, int size, const char *suffix) {
    /* thumb_fields.push_pop: {low registers, LR/PC if extra}; `low` may hold r0-r12 */
    int listed[13], count = 0;
    for (int r = 0; r < 13; r++)
        if (low >> r & 1)
            listed[count++] = r;
    if (!count && !extra)
        return 0;
    int n = count + (extra ? 1 : 0);
    char list[TEXT_MAX];
    int at = 0;
    for (int k = 0; k < count; k++)
        at += td_format(list + at, TEXT_MAX - at, "%s%s", k ? ", " : "", NAME[listed[k]]);
    if (extra)
        td_format(list + at, TEXT_MAX - at, "%s%s", count ? ", " : "", pop ? "pc" : "lr");
    td_text(o, "%s%s {%s}", pop ? "pop" : "push", suffix, list);
    o->size = size;
    o->mem_base = ID_SP;
    o->span = 4 * n;
    td_regs *r = pop ? &o->writes : &o->reads;
    r->n = 0;
    r->id[r->n++] = ID_SP;
    for (int k = 0; k < count; k++)
        r->id[r->n++] = REG[listed[k]];
    if (extra)
        r->id[r->n++] = pop ? ID_PC : ID_LR;
    if (!pop) {
        o->cls = C_STM;
        o->nregs = n;
        td_regs_of(&o->writes, 1, ID_SP);
        o->sp_delta = -4 * n;
        return 1;
    }
    td_regs_of(&o->reads, 1, ID_SP);
    o->dest = count ? REG[listed[0]] : (extra ? ID_PC : 0);
    o->sp_delta = 4 * n;
    if (extra) {
        o->cls = C_LDM_PC;
        o->nregs = n - 1;
        o->branch = BR_ALWAYS;
    } else {
        o->cls = C_LDM;
        o->nregs = n;
    }
    return 1;
}
