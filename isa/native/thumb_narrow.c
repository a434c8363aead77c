/* The 16-bit encodings of the native table classifier, line by line the decisions of
 * isa/thumb_table.py (which says what it is for and how it is checked against capstone);
 * the pieces they share with the 32-bit ones: thumb_build.c (texts: thumb_text.c). */
#include "thumb_narrow.h"

#include <stddef.h>

static void branch_to(td_insn *o, int cls, int branch, int64_t target) {
    o->cls = cls;
    o->branch = branch;
    o->has_target = 1;
    o->target = target;
}

static const char *const REGISTER_OPS[16] = {
    "ands", "eors", "lsls", "lsrs", "asrs", "adcs", "sbcs", "rors", "tst", "rsbs", "cmp", "cmn",
    "orrs", "muls", "bics", "mvns"};

static int register_ops(unsigned hw, int lo3, int mid3, td_insn *o) {
    /* thumb_table._register_ops and _bx_blx */
    if ((hw & 0xFC00) == 0x4000) {
        int op = hw >> 6 & 0xF, d = REG[lo3], m = REG[mid3];
        const char *name = REGISTER_OPS[op], *rd = NAME[lo3], *rm = NAME[mid3];
        if (op == 8 || op == 10 || op == 11) {  /* tst, cmp, cmn */
            td_text(o, "%s %s, %s", name, rd, rm);
            td_regs_of(&o->reads, 2, d, m);
            td_regs_of(&o->writes, 1, ID_CPSR);
            td_alu(o, 2, 0, C_ALU);
        } else if (op == 9) {
            td_text(o, "rsbs %s, %s, #0", rd, rm);
            td_regs_of(&o->reads, 1, m);
            td_regs_of(&o->writes, 1, d);
            td_alu(o, 2, d, C_ALU);
        } else if (op == 13) {
            td_text(o, "muls %s, %s, %s", rd, rm, rd);
            td_regs_of(&o->reads, 2, d, m);
            td_regs_of(&o->writes, 1, d);
            td_alu(o, 2, d, C_MUL);
        } else if (op == 15) {
            td_text(o, "mvns %s, %s", rd, rm);
            td_regs_of(&o->reads, 1, m);
            td_regs_of(&o->writes, 1, d);
            td_alu(o, 2, d, C_ALU);
        } else {
            td_text(o, "%s %s, %s", name, rd, rm);
            if (op == 5 || op == 6)  /* adcs, sbcs */
                td_regs_of(&o->reads, 3, d, m, ID_CPSR);
            else
                td_regs_of(&o->reads, 2, d, m);
            td_regs_of(&o->writes, 1, d);
            td_alu(o, 2, d, C_ALU);
        }
        return 1;
    }
    int op = hw >> 8 & 3;
    if (op == 3) {  /* BX/BLX (register): 010001 11 L Rm 000 */
        int rm = hw >> 3 & 0xF;
        if ((hw & 7) || rm == 13 || rm == 15)
            return 0;
        int m = REG[rm];
        o->size = 2;
        o->cls = C_BX;
        o->branch = BR_ALWAYS;
        if (hw & 0x80) {
            td_text(o, "blx %s", NAME[rm]);
            td_regs_of(&o->reads, 2, ID_PC, m);
            td_regs_of(&o->writes, 2, ID_LR, ID_PC);
            o->dest = rm == 14 ? ID_LR : 0;
        } else {
            td_text(o, "bx %s", NAME[rm]);
            td_regs_of(&o->reads, 1, m);
            td_regs_of(&o->writes, 1, ID_PC);
        }
        return 1;
    }
    int rdn = (hw >> 7 & 1) << 3 | lo3, rm = hw >> 3 & 0xF;
    if (op == 2 && rm == 13 && rdn != 13 && rdn != 15) {  /* MOV Rd, SP */
        td_text(o, "mov %s, sp", NAME[rdn]);
        td_regs_of(&o->reads, 1, ID_SP);
        td_regs_of(&o->writes, 1, REG[rdn]);
        td_alu(o, 2, REG[rdn], C_ALU);
        return 1;
    }
    if (op != 1 && rdn == 13 && rm != 13 && rm != 15) {  /* MOV SP, Rm; ADD SP, Rm */
        if (op) {
            td_text(o, "mov sp, %s", NAME[rm]);
            td_regs_of(&o->reads, 1, REG[rm]);
        } else {
            td_text(o, "add sp, %s", NAME[rm]);
            td_regs_of(&o->reads, 2, ID_SP, REG[rm]);
        }
        td_regs_of(&o->writes, 1, ID_SP);
        td_alu(o, 2, ID_SP, C_ALU);
        o->sp_unknown = 1;  /* (SP set to a run-time value) */
        return 1;
    }
    if (op != 1 && rdn == 15 && rm != 13 && rm != 15) {  /* MOV PC, Rm; ADD PC, Rm: branches */
        td_text(o, "%s pc, %s", op ? "mov" : "add", NAME[rm]);
        if (op)
            td_regs_of(&o->reads, 1, REG[rm]);
        else
            td_regs_of(&o->reads, 2, ID_PC, REG[rm]);
        td_regs_of(&o->writes, 1, ID_PC);
        td_alu(o, 2, ID_PC, C_ALU_PC);
        o->branch = BR_ALWAYS;
        return 1;
    }
    if (op == 0 && rm == 13 && rdn != 13 && rdn != 15) {  /* ADD Rdm, SP, Rdm */
        td_text(o, "add %s, sp, %s", NAME[rdn], NAME[rdn]);
        td_regs_of(&o->reads, 2, ID_SP, REG[rdn]);
        td_regs_of(&o->writes, 1, REG[rdn]);
        td_alu(o, 2, REG[rdn], C_ALU);
        return 1;
    }
    if (rdn == 13 || rm == 13 || rdn == 15 || rm == 15)
        return 0;
    int d = REG[rdn], m = REG[rm];
    if (op == 1) {
        td_text(o, "cmp %s, %s", NAME[rdn], NAME[rm]);
        td_regs_of(&o->reads, 2, d, m);
        td_regs_of(&o->writes, 1, ID_CPSR);
        td_alu(o, 2, 0, C_ALU);
    } else if (op == 2) {
        td_text(o, "mov %s, %s", NAME[rdn], NAME[rm]);
        td_regs_of(&o->reads, 1, m);
        td_regs_of(&o->writes, 1, d);
        td_alu(o, 2, d, C_ALU);
    } else {
        td_text(o, "add %s, %s", NAME[rdn], NAME[rm]);
        td_regs_of(&o->reads, 2, d, m);
        td_regs_of(&o->writes, 1, d);
        td_alu(o, 2, d, C_ALU);
    }
    return 1;
}

static const char *const REG_OFFSET_OPS[8] = {"str", "strh", "strb", "ldrsb", "ldr", "ldrh",
                                              "ldrb", "ldrsh"};

int td_narrow(unsigned hw, int64_t address, td_insn *o) {
    unsigned top = hw >> 11;
    int lo3 = hw & 7, mid3 = hw >> 3 & 7;
    char v[32];
    td_start(o, 2, C_ALU);
    if (top <= 2) {  /* LSL/LSR/ASR (immediate) */
        int imm5 = hw >> 6 & 31, d = REG[lo3], m = REG[mid3];
        td_regs_of(&o->reads, 1, m);
        td_alu(o, 2, d, C_ALU);
        if (top == 0 && imm5 == 0) {
            td_text(o, "movs %s, %s", NAME[lo3], NAME[mid3]);
            td_regs_of(&o->writes, 2, d, ID_CPSR);
            return 1;
        }
        static const char *const shifts[3] = {"lsls", "lsrs", "asrs"};
        td_imm(v, imm5 || top == 0 ? imm5 : 32);
        td_text(o, "%s %s, %s, %s", shifts[top], NAME[lo3], NAME[mid3], v);
        td_regs_of(&o->writes, 1, d);
        return 1;
    }
    if (top == 3) {  /* ADDS/SUBS (register, 3-bit immediate) */
        int op = hw >> 9 & 3, d = REG[lo3], n = REG[mid3], field = hw >> 6 & 7;
        const char *mnemonic = op & 1 ? "subs" : "adds";
        td_regs_of(&o->writes, 1, d);
        td_alu(o, 2, d, C_ALU);
        if (op & 2) {
            td_imm(v, field);
            td_text(o, "%s %s, %s, %s", mnemonic, NAME[lo3], NAME[mid3], v);
            td_regs_of(&o->reads, 1, n);
        } else {
            td_text(o, "%s %s, %s, %s", mnemonic, NAME[lo3], NAME[mid3], NAME[field]);
            td_regs_of(&o->reads, 2, n, REG[field]);
        }
        return 1;
    }
    if (top <= 7) {  /* MOVS/CMP/ADDS/SUBS (8-bit immediate) */
        int rd = hw >> 8 & 7, d = REG[rd];
        td_imm(v, hw & 0xFF);
        if (top == 4) {
            td_text(o, "movs %s, %s", NAME[rd], v);
            td_regs_of(&o->writes, 1, d);
            td_alu(o, 2, d, C_ALU);
        } else if (top == 5) {
            td_text(o, "cmp %s, %s", NAME[rd], v);
            td_regs_of(&o->reads, 1, d);
            td_regs_of(&o->writes, 1, ID_CPSR);
            td_alu(o, 2, 0, C_ALU);
        } else {
            td_text(o, "%s %s, %s", top == 6 ? "adds" : "subs", NAME[rd], v);
            td_regs_of(&o->reads, 1, d);
            td_regs_of(&o->writes, 1, d);
            td_alu(o, 2, d, C_ALU);
        }
        return 1;
    }
    if (top == 8)
        return register_ops(hw, lo3, mid3, o);
    if (top == 9) {  /* LDR (literal) */
        int rt = hw >> 8 & 7, disp = (hw & 0xFF) * 4, t = REG[rt];
        td_imm(v, disp);
        td_text(o, "ldr %s, [pc, %s]", NAME[rt], v);
        o->cls = C_LDR;
        td_regs_of(&o->reads, 1, ID_PC);
        td_regs_of(&o->writes, 1, t);
        o->load = 1;
        o->base = o->mem_base = ID_PC;
        o->dest = t;
        o->disp = disp;
        o->span = 8;
        return 1;
    }
    if (top >= 0b01100 && top <= 0b10001) {  /* [Rn, #imm5] */
        int load = (hw & 0x800) != 0, imm5 = hw >> 6 & 31, disp;
        const char *kind;
        if (top <= 0b01101)
            kind = "", disp = imm5 * 4;
        else if (top <= 0b01111)
            kind = "b", disp = imm5;
        else
            kind = "h", disp = imm5 * 2;
        char offset[40] = "";
        if (disp) {
            td_imm(v, disp);
            td_format(offset, sizeof offset, ", %s", v);
        }
        td_text(o, "%s%s %s, [%s%s]", load ? "ldr" : "str", kind, NAME[lo3], NAME[mid3],
                offset);
        return td_mem(o, 2, load, lo3, mid3, -1, disp);
    }
    if (top == 0b10010 || top == 0b10011) {  /* LDR/STR [SP, #imm8] */
        int load = (hw & 0x800) != 0, rt = hw >> 8 & 7, disp = (hw & 0xFF) * 4;
        char offset[40] = "";
        if (disp) {
            td_imm(v, disp);
            td_format(offset, sizeof offset, ", %s", v);
        }
        td_text(o, "%s %s, [sp%s]", load ? "ldr" : "str", NAME[rt], offset);
        return td_mem(o, 2, load, rt, 13, -1, disp);
    }
    if (top == 0b01010 || top == 0b01011) {  /* [Rn, Rm] */
        int op = hw >> 9 & 7, rm = hw >> 6 & 7;
        td_text(o, "%s %s, [%s, %s]", REG_OFFSET_OPS[op], NAME[lo3], NAME[mid3], NAME[rm]);
        return td_mem(o, 2, op >= 3, lo3, mid3, rm, 0);
    }
    if (top == 0b10100) {  /* ADR Rd, #imm8 (capstone: no register read, the offset printed) */
        int rd = hw >> 8 & 7;
        td_imm(v, (hw & 0xFF) * 4);
        td_text(o, "adr %s, %s", NAME[rd], v);
        td_regs_of(&o->writes, 1, REG[rd]);
        td_alu(o, 2, REG[rd], C_ALU);
        return 1;
    }
    if (top == 0b10101) {  /* ADD Rd, SP, #imm8 */
        int rd = hw >> 8 & 7;
        td_imm(v, (hw & 0xFF) * 4);
        td_text(o, "add %s, sp, %s", NAME[rd], v);
        td_regs_of(&o->reads, 1, ID_SP);
        td_regs_of(&o->writes, 1, REG[rd]);
        td_alu(o, 2, REG[rd], C_ALU);
        return 1;
    }
    if ((hw & 0xFF00) == 0xB000) {  /* ADD/SUB SP, SP, #imm7: SP moves by a constant */
        int delta = (hw & 0x7F) * 4;
        td_imm(v, delta);
        td_text(o, "%s sp, %s", hw & 0x80 ? "sub" : "add", v);
        td_regs_of(&o->reads, 1, ID_SP);
        td_regs_of(&o->writes, 1, ID_SP);
        td_alu(o, 2, ID_SP, C_ALU);
        o->sp_delta = hw & 0x80 ? -delta : delta;
        return 1;
    }
    if ((hw & 0xF500) == 0xB100) {  /* CBZ/CBNZ */
        int64_t target = address + 4 + ((hw >> 9 & 1) << 6 | (hw >> 3 & 31) << 1);
        td_imm(v, target);
        td_text(o, "%s %s, %s", hw & 0x800 ? "cbnz" : "cbz", NAME[lo3], v);
        td_regs_of(&o->reads, 1, REG[lo3]);
        branch_to(o, C_CBZ, BR_COND, target);
        return 1;
    }
    if ((hw & 0xFE00) == 0xB400 || (hw & 0xFE00) == 0xBC00)
        return td_push_pop(o, (hw & 0x0800) != 0, hw & 0xFF, hw >> 8 & 1, 2, "");
    if ((hw & 0xFF00) == 0xB200 || (hw & 0xFF00) == 0xBA00) {  /* extends, REV* */
        static const char *const extends[4] = {"sxth", "sxtb", "uxth", "uxtb"};
        static const char *const reverses[4] = {"rev", "rev16", NULL, "revsh"};
        int op = hw >> 6 & 3, d = REG[lo3];
        const char *name = (hw & 0xFF00) == 0xB200 ? extends[op] : reverses[op];
        if (name == NULL)
            return 0;
        td_text(o, "%s %s, %s", name, NAME[lo3], NAME[mid3]);
        td_regs_of(&o->reads, 1, REG[mid3]);
        td_regs_of(&o->writes, 1, d);
        td_alu(o, 2, d, C_ALU);
        return 1;
    }
    if (top == 0b11000 || top == 0b11001)  /* STM Rn!, {list} / LDM Rn{!}, {list} */
        return td_load_store_multiple_narrow(hw, o);
    if (top == 0b11100) {  /* B (unconditional) */
        int offset = (hw & 0x7FF) << 1;
        int64_t target = address + 4 + (offset & (1 << 11) ? offset - (1 << 12) : offset);
        td_imm(v, target);
        td_text(o, "b %s", v);
        branch_to(o, C_BRANCH, BR_ALWAYS, target);
        return 1;
    }
    if (top >> 1 == 0b1101) {  /* B<cond> */
        int cond = hw >> 8 & 0xF;
        if (cond >= 14)
            return td_system_narrow(hw, o);  /* (UDF, SVC) */
        int offset = (hw & 0xFF) << 1;
        int64_t target = address + 4 + (offset & (1 << 8) ? offset - (1 << 9) : offset);
        td_imm(v, target);
        td_text(o, "b%s %s", CONDITIONS[cond], v);
        td_regs_of(&o->writes, 1, ID_PC);
        branch_to(o, C_BRANCH_COND, BR_COND, target);
        return 1;
    }
    return td_system_narrow(hw, o);
}

int td_classify(unsigned hw1, unsigned hw2, int64_t address, td_insn *out) {
    if (hw1 >> 11 >= 0b11101)
        return td_wide(hw1, hw2, address, out);
    return td_narrow(hw1, address, out);
}
