/* ramfunc: hot kernels copied to SRAM at start-up and run from there (.ramfunc / code in
 * .data, a common embedded practice). They store into the same RAM page that holds their
 * code, and use IT blocks (conditional stores), LDM/STM with writeback, post-increment loads
 * and SDIV/UDIV: observing the run (recording RAM accesses, profiling) must not change what
 * they compute or cost (tests/test_ramfunc.py). */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"
#include "test_util.h"

#define RAMFUNC __attribute__((section(".ramfunc"), noinline, used))

/* In .data, next to the code: the kernels' stores land on the page of their own code. */
static int32_t ram_buf[64] __attribute__((section(".data.ram_buf"))) = {1};

/* Clamp in place with conditional stores (IT blocks); SDIV by a signed divisor. */
RAMFUNC int32_t ram_clamp(int32_t *p, int n, int32_t lo, int32_t hi, int32_t d)
{
    int32_t sum = 0;
    for (int i = 0; i < n; i++) {
        int32_t v = p[i];
        __asm__ volatile(
            "cmp %0, %1\n\t"
            "it lt\n\t"
            "strlt %1, [%2]\n\t"
            "cmp %0, %3\n\t"
            "itt gt\n\t"
            "strgt %3, [%2]\n\t"
            "movgt %0, %3\n\t"
            : "+r"(v) : "r"(lo), "r"(&p[i]), "r"(hi) : "cc", "memory");
        int32_t q;
        __asm__("sdiv %0, %1, %2" : "=r"(q) : "r"(v), "r"(d));
        sum += q;
    }
    return sum;
}

/* Block copy with LDM/STM writeback, four words at a time. */
RAMFUNC void ram_copy4(int32_t *dst, const int32_t *src, int blocks)
{
    __asm__ volatile(
        "1:\n\t"
        "ldmia %1!, {r4, r5, r6, r7}\n\t"
        "stmia %0!, {r4, r5, r6, r7}\n\t"
        "subs %2, %2, #1\n\t"
        "bne 1b\n\t"
        : "+r"(dst), "+r"(src), "+r"(blocks) : : "r4", "r5", "r6", "r7", "cc", "memory");
}

/* Byte checksum with post-increment loads; UDIV of the result. */
RAMFUNC uint32_t ram_sum_bytes(const uint8_t *p, int n, uint32_t d)
{
    uint32_t s = 0, b;
    for (int i = 0; i < n; i++) {
        __asm__ volatile("ldrb %0, [%1], #1" : "=r"(b), "+r"(p) : : "memory");
        s = s * 31 + b;
    }
    uint32_t q;
    __asm__("udiv %0, %1, %2" : "=r"(q) : "r"(s), "r"(d));
    return q + s;
}

int main(void)
{
    uint32_t rng = 0x1234;
    int32_t stack_buf[32];
    for (int round = 0; round < 8; round++) {
        for (int i = 0; i < 64; i++)
            ram_buf[i] = (int32_t)(lcg_next(&rng) & 0x3FF) - 512;
        int32_t c = ram_clamp(ram_buf, 64, -300, 300, round - 4 ? round - 4 : 7);
        ram_copy4(stack_buf, ram_buf + 8, 8);
        ram_copy4(ram_buf + 32, stack_buf, 8);
        uint32_t s = ram_sum_bytes((const uint8_t *)ram_buf, 256, (uint32_t)round + 3);
        printf("round %d: clamp %ld sum %lu last %ld\n", round, (long)c, (unsigned long)s,
               (long)ram_buf[63]);
    }
    return 0;
}
