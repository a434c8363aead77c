/* divide: hardware SDIV/UDIV (ARMv7-M only) over edge-case operands.
 * Inline asm pins the instructions and gives hardware semantics where C is
 * undefined: x/0 = 0 (CCR.DIV_0_TRP is 0 out of reset) and
 * INT32_MIN / -1 = INT32_MIN. A timed loop follows for cycle models. */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"
#include "test_util.h"

static inline int32_t sdiv(int32_t a, int32_t b)
{
    int32_t q;
    __asm__("sdiv %0, %1, %2" : "=r"(q) : "r"(a), "r"(b));
    return q;
}

static inline uint32_t udiv(uint32_t a, uint32_t b)
{
    uint32_t q;
    __asm__("udiv %0, %1, %2" : "=r"(q) : "r"(a), "r"(b));
    return q;
}

static const int32_t s_ops[][2] = {
    {100, 7}, {-100, 7}, {100, -7}, {-100, -7}, {7, 100}, {0, 5},
    {INT32_MAX, 1}, {INT32_MIN, -1}, {INT32_MIN, 2}, {12345, 0}, {-1, 0x10000},
};
static const uint32_t u_ops[][2] = {
    {100, 7}, {0xFFFFFFFFu, 3}, {0x80000000u, 0x10u}, {5, 0xFFFFFFFFu},
    {12345, 0}, {0xFFFFFFFFu, 1},
};

int main(void)
{
    for (unsigned i = 0; i < sizeof s_ops / sizeof s_ops[0]; i++)
        printf("sdiv %ld / %ld = %ld\n", (long)s_ops[i][0], (long)s_ops[i][1],
               (long)sdiv(s_ops[i][0], s_ops[i][1]));
    for (unsigned i = 0; i < sizeof u_ops / sizeof u_ops[0]; i++)
        printf("udiv %lu / %lu = %lu\n", (unsigned long)u_ops[i][0],
               (unsigned long)u_ops[i][1], (unsigned long)udiv(u_ops[i][0], u_ops[i][1]));

    /* Operand widths vary, which matters for early-terminating dividers. */
    uint32_t rng = 0xD1, acc = 0;
    mcusim_cycles_init();
    MCUSIM_REGION_BEGIN("divide_loop");
    uint32_t t0 = mcusim_cycles();
    for (int i = 0; i < 1000; i++) {
        uint32_t a = lcg_next(&rng), b = lcg_next(&rng) >> (i & 31);
        acc += udiv(a, b) + (uint32_t)sdiv((int32_t)a, (int32_t)b | 1);
    }
    uint32_t t1 = mcusim_cycles();
    MCUSIM_REGION_END("divide_loop");
    printf("divide loop acc: 0x%08lx\n", (unsigned long)acc);
    printf("cycles: %lu\n", (unsigned long)(t1 - t0));
    return 0;
}
