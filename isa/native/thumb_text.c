/* The instruction texts of the native table classifier: capstone's immediate formatting
 * (isa/thumb_fields.py imm) and a formatter for the few conversions the texts use. */
#include "thumb_narrow.h"

#include <stdarg.h>

/* The digits of v (base 16 or 10) after `prefix`, NUL-terminated; its length. */
static int digits(char *buf, const char *prefix, uint64_t v, unsigned base) {
    int n = 0;
    while (*prefix)
        buf[n++] = *prefix++;
    char reversed[24];
    int k = 0;
    do {
        reversed[k++] = "0123456789abcdef"[v % base];
        v /= base;
    } while (v);
    while (k)
        buf[n++] = reversed[--k];
    buf[n] = 0;
    return n;
}

void td_imm(char *buf, int64_t v) {
    /* thumb_fields.imm: capstone prints hex beyond 9, decimal up to it, a sign before both */
    if (v < 0)
        digits(buf, v < -9 ? "#-0x" : "#-", (uint64_t)-v, v < -9 ? 16 : 10);
    else
        digits(buf, v > 9 ? "#0x" : "#", (uint64_t)v, v > 9 ? 16 : 10);
}

void td_negative_hex(char *buf, uint64_t magnitude) {
    digits(buf, "#-0x", magnitude, 16);  /* (capstone: always hex, even #-0x0) */
}

/* vsnprintf for the only conversions the texts need, %s and %u (several times faster). */
static int format(char *buf, int cap, const char *f, va_list args) {
    int n = 0;
    for (; *f && n < cap - 1; f++) {
        if (*f != '%') {
            buf[n++] = *f;
            continue;
        }
        f++;
        if (*f == 's') {
            for (const char *a = va_arg(args, const char *); *a && n < cap - 1; a++)
                buf[n++] = *a;
        } else {  /* %u */
            char number[24];
            int length = digits(number, "", va_arg(args, unsigned), 10);
            for (int k = 0; k < length && n < cap - 1; k++)
                buf[n++] = number[k];
        }
    }
    buf[n] = 0;
    return n;
}

int td_format(char *buf, int cap, const char *f, ...) {
    va_list args;
    va_start(args, f);
    int n = format(buf, cap, f, args);
    va_end(args);
    return n;
}

void td_text(td_insn *o, const char *f, ...) {
    va_list args;
    va_start(args, f);
    o->text_len = format(o->text, TEXT_MAX, f, args);
    va_end(args);
}
