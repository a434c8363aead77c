/* IT blocks for the native table classifier, line by line the decisions of isa/thumb_it.py
 * (which says what capstone gives inside an IT block and how that is checked). */
#include "thumb_it.h"

#include <string.h>

/* thumb_it._flag_setting_narrow */
static int flag_setting_narrow(unsigned hw) {
    unsigned top = hw >> 11;
    if (top <= 3 || top == 4 || top == 6 || top == 7)
        return 1;
    if ((hw & 0xFC00) == 0x4000) {
        unsigned op = hw >> 6 & 0xF;
        return op != 0x8 && op != 0xA && op != 0xB;
    }
    return 0;
}

/* thumb_it.it_conditions: their number (0: not an IT instruction handled here) */
static int it_conditions(unsigned hw, int conditions[4]) {
    unsigned firstcond = hw >> 4 & 0xF, mask = hw & 0xF;
    if ((hw & 0xFF00) != 0xBF00 || !mask || firstcond >= 14)
        return 0;
    int count = 4 - __builtin_ctz(mask);
    conditions[0] = (int)firstcond;
    for (int k = 1; k < count; k++) {
        int then = (mask >> (4 - k) & 1) == (firstcond & 1);
        conditions[k] = then ? (int)firstcond : (int)(firstcond ^ 1);
    }
    return count;
}

/* thumb_it.conditional: `o` (the unconditional classification of the encoding starting with
 * `hw`) as inside an IT block under condition `cond` */
static void conditional(td_insn *o, unsigned hw, int cond) {
    char mnemonic[TEXT_MAX], text[TEXT_MAX];
    const char *space = strchr(o->text, ' ');
    size_t length = space ? (size_t)(space - o->text) : strlen(o->text);
    memcpy(mnemonic, o->text, length);
    mnemonic[length] = 0;
    if (o->size == 2 && flag_setting_narrow(hw)) {
        mnemonic[--length] = 0;  /* (they all end in "s") */
        int kept = 0;
        for (int k = 0; k < o->writes.n; k++)
            if (o->writes.id[k] != ID_CPSR)
                o->writes.id[kept++] = o->writes.id[k];
        o->writes.n = kept;
    }
    char *dot = strchr(mnemonic, '.');
    const char *suffix = "";
    if (dot) {
        *dot = 0;
        suffix = ".";
    }
    td_format(text, TEXT_MAX, "%s%s%s%s %s", mnemonic, CONDITIONS[cond], suffix,
              dot ? dot + 1 : "", space ? space + 1 : "");
    td_text(o, "%s", text);
    if (o->branch != BR_NONE) {  /* taken or not by the condition: B becomes a B<cond> */
        o->branch = BR_COND;
        if (o->cls == C_BRANCH)
            o->cls = C_BRANCH_COND;
    }
}

int td_it_block(const unsigned char *code, Py_ssize_t pos, Py_ssize_t end, int64_t address,
                td_insn out[5]) {
    if (pos + 1 >= end)
        return 0;
    unsigned hw = code[pos] | code[pos + 1] << 8;
    int conditions[4];
    int count = it_conditions(hw, conditions);
    if (!count)
        return 0;
    td_start(&out[0], 2, C_IT);
    char pattern[4] = "";
    for (int k = 1; k < count; k++)
        pattern[k - 1] = conditions[k] == conditions[0] ? 't' : 'e';
    pattern[count - 1] = 0;
    td_text(&out[0], "it%s %s", pattern, CONDITIONS[conditions[0]]);
    td_regs_of(&out[0].writes, 1, ID_ITSTATE);
    Py_ssize_t offset = pos + 2;
    for (int k = 0; k < count; k++) {
        if (offset + 1 >= end)
            return 0;
        unsigned first = code[offset] | code[offset + 1] << 8;
        if ((first & 0xFF00) == 0xBF00 || (first & 0xFF00) == 0xDE00 || (first & 0xFFC0) == 0)
            return 0;  /* (an IT or a hint inside the block; UDF; MOVS Rd, Rm: UNPREDICTABLE) */
        unsigned second = 0;
        if (first >> 11 >= 0b11101) {
            if (offset + 3 >= end)
                return 0;
            second = code[offset + 2] | code[offset + 3] << 8;
        }
        td_insn *o = &out[k + 1];
        /* (system classes, CBZ and B<cond> are left to capstone; a branch must be last) */
        if (!td_classify(first, second, address + (offset - pos), o) ||
            TD_SYSTEM_CLASS(o->cls) || o->cls == C_CBZ || o->cls == C_BRANCH_COND ||
            (o->branch != BR_NONE && k < count - 1))
            return 0;
        conditional(o, first, conditions[k]);
        offset += o->size;
    }
    return count + 1;
}
