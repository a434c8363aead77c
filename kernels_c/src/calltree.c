/* calltree: a known call tree for the profiler's tests.
 *   main -> mid (3 calls) -> leaf (2 calls each)
 *   main -> fact(10): 10 activations, 9 of them recursive
 *   main -> tail -> leaf by a tail call (B, not BL)
 *   main -> leaf through a function pointer (BLX)
 * so leaf is entered 8 times. start_trigger/stop_trigger read the cycle counter (DWT_CYCCNT;
 * SysTick's down-counter on ARMv6-M) at the same offset from their entry, so
 * `--region start_trigger:stop_trigger` equals the printed difference. */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"

volatile uint32_t t0, t1;
volatile int sink;

#if defined(__ARM_ARCH_6M__)
#define COUNTER "0xE000E018" /* SYST_CVR */
#else
#define COUNTER "0xE0001004" /* DWT_CYCCNT */
#endif

#define TRIGGER(name, var)                                                    \
    __attribute__((naked, noinline)) void name(void)                         \
    {                                                                         \
        __asm__ volatile("ldr r1, =" COUNTER "\n\t"                           \
                         "ldr r0, [r1]\n\t"                                   \
                         "ldr r1, =" #var "\n\t"                              \
                         "str r0, [r1]\n\t"                                   \
                         "bx lr\n\t"                                          \
                         ".ltorg");                                           \
    }
TRIGGER(start_trigger, t0)
TRIGGER(stop_trigger, t1)

__attribute__((noinline)) int leaf(int x) { return x * 3 + sink; }

__attribute__((noinline)) int mid(int x) { return leaf(x) + leaf(x + 1); }

/* Not a tail call: the volatile read after the call keeps it a real recursion. */
__attribute__((noinline)) int fact(int n)
{
    if (n <= 1)
        return 1;
    int r = fact(n - 1) * n;
    return r + sink;
}

__attribute__((noinline)) int tail(int x) { return leaf(x + 2); }

int (*volatile indirect)(int) = leaf;

int main(void)
{
    mcusim_cycles_init();
    start_trigger();
    int s = 0;
    for (int i = 0; i < 3; i++)
        s += mid(i);
    s += fact(10);
    s += tail(1);
    s += indirect(5);
    stop_trigger();
    printf("calltree: %d\n", s);
#if defined(__ARM_ARCH_6M__)
    printf("cycles: %u\n", (unsigned)((t0 - t1) & 0xFFFFFF));
#else
    printf("cycles: %u\n", (unsigned)(t1 - t0));
#endif
    return 0;
}
