/* The system encodings of the native table classifier, line by line the decisions of
 * isa/thumb_system.py (BKPT, SVC, CPS, the hints, the barriers). */
#include "thumb_narrow.h"

#include <stddef.h>

static const char *const HINTS[5] = {"nop", "yield", "wfe", "wfi", "sev"};

/* The DSB/DMB options capstone names (NULL: printed as a number). */
static const char *const BARRIER_OPTIONS[16] = {
    [2] = "oshst", [3] = "osh", [6] = "nshst", [7] = "nsh", [10] = "ishst", [11] = "ish",
    [14] = "st", [15] = "sy"};

/* The special registers MRS/MSR name, by SYSm (NULL: none here); MSR writes the APSR's
 * flags of the first four ("_nzcvq"). */
static const char *const SPECIAL[21] = {
    [0] = "apsr", [1] = "iapsr", [2] = "eapsr", [3] = "xpsr", [5] = "ipsr", [6] = "epsr",
    [7] = "iepsr", [8] = "msp", [9] = "psp", [16] = "primask", [17] = "basepri",
    [18] = "basepri_max", [19] = "faultmask", [20] = "control"};

static int hint_class(unsigned number) {
    return number == 2 || number == 3 ? C_WFI : C_NOP;  /* WFE and WFI wait */
}

int td_system_narrow(unsigned hw, td_insn *o) {
    char v[32];
    if ((hw & 0xFF00) == 0xBE00) {
        td_imm(v, hw & 0xFF);
        td_text(o, "bkpt %s", v);
        o->cls = C_BKPT;
        return 1;
    }
    if ((hw & 0xFF0F) == 0xBF00) {  /* (a non-zero low nibble: an IT instruction) */
        unsigned number = hw >> 4 & 0xF;
        if (number < 5) {
            td_text(o, "%s", HINTS[number]);
        } else {
            td_imm(v, number);
            td_text(o, "hint %s", v);
        }
        o->cls = hint_class(number);
        return 1;
    }
    if ((hw & 0xFF00) == 0xDE00) {  /* UDF #imm8 (an ALU instruction; never inside IT) */
        if ((hw & 0xF0) == 0xF0)
            return 0;  /* (capstone: 0xDEFE is "trap", 0xDEF9 undecoded; others kept too) */
        td_imm(v, hw & 0xFF);
        td_text(o, "udf %s", v);
        o->cls = C_ALU;
        return 1;
    }
    if ((hw & 0xFF00) == 0xDF00) {
        td_imm(v, hw & 0xFF);
        td_text(o, "svc %s", v);
        o->cls = C_SVC;
        td_regs_of(&o->reads, 1, ID_PC);
        td_regs_of(&o->writes, 1, ID_LR);
        return 1;
    }
    if ((hw & 0xFFE8) == 0xB660) {  /* CPS: 1011 0110 011 im 0 A I F */
        char flags[4];
        int n = 0;
        if (hw & 4)
            flags[n++] = 'a';
        if (hw & 2)
            flags[n++] = 'i';
        if (hw & 1)
            flags[n++] = 'f';
        flags[n] = 0;
        td_text(o, "cps%s %s", hw & 0x10 ? "id" : "ie", n ? flags : "none");
        o->cls = C_CPS;
        return 1;
    }
    return 0;
}

int td_system_wide(unsigned hw1, unsigned hw2, td_insn *o) {
    unsigned sysm = hw2 & 0xFF;
    const char *special = sysm < 21 ? SPECIAL[sysm] : NULL;
    if (hw1 == 0xF3EF && (hw2 & 0xF000) == 0x8000 && special != NULL) {
        int rd = hw2 >> 8 & 0xF;
        if (rd == 13 || rd == 15)
            return 0;
        td_text(o, "mrs %s, %s", NAME[rd], special);
        td_regs_of(&o->writes, 1, REG[rd]);
        o->dest = REG[rd];
        o->cls = C_MRS;
        return 1;
    }
    if ((hw1 & 0xFFF0) == 0xF380 && (hw2 & 0xFF00) == 0x8800 && special != NULL) {
        int rn = hw1 & 0xF;
        if (rn == 13 || rn == 15)
            return 0;
        td_text(o, "msr %s%s, %s", special, sysm < 4 ? "_nzcvq" : "", NAME[rn]);
        td_regs_of(&o->reads, 1, REG[rn]);
        o->cls = C_MSR;
        return 1;
    }
    if (hw1 == 0xF3AF && hw2 >= 0x8000 && hw2 <= 0x8004) {
        td_text(o, "%s.w", HINTS[hw2 & 0xF]);
        o->cls = hint_class(hw2 & 0xF);
        return 1;
    }
    unsigned kind = hw2 & 0xFFF0, option = hw2 & 0xF;
    if (hw1 != 0xF3BF || (kind != 0x8F40 && kind != 0x8F50 && kind != 0x8F60))
        return 0;
    if (kind == 0x8F60) {
        char digit[2] = {"0123456789abcdef"[option], 0};  /* (capstone: always hex) */
        if (option == 15)
            td_text(o, "isb sy");
        else
            td_text(o, "isb #0x%s", digit);
        o->cls = C_ISB;
        return 1;
    }
    if (kind == 0x8F40 && option == 12)
        return 0;  /* (capstone prints it as "dfb") */
    char v[32];
    const char *named = BARRIER_OPTIONS[option];
    if (named == NULL)
        td_imm(v, option);
    td_text(o, "%s %s", kind == 0x8F40 ? "dsb" : "dmb", named ? named : v);
    o->cls = C_BARRIER;
    return 1;
}
