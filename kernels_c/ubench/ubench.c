/*
 * ubench - cycle-model validation microbenchmarks (see README.md).
 *
 * Runs every test assembled for this core twice and prints, for the second
 * run, one line per test:
 *
 *     ubench <name> <cycles of the test window - cycles of the empty window>
 *
 * then exits 0. The tests are found through the records that UB_FUNC
 * (ub_asm.h) places in the linker section `ub_tests`.
 */
#include <stdint.h>
#include <stdio.h>

#include "mcusim.h"
#include "ub_config.h"

typedef uint32_t (*ub_fn)(void);

struct ub_test {
    ub_fn fn;
    const char *name;
};

/* Defined by the linker for the orphan section `ub_tests`. */
extern const struct ub_test __start_ub_tests[];
extern const struct ub_test __stop_ub_tests[];

uint32_t ub_empty(void);

#if UB_V7M
#define CPUID       (*(volatile uint32_t *)0xE000ED00u)
#define DWT_LAR     (*(volatile uint32_t *)0xE0001FB0u)
#define PARTNO_M7   0xC27u

/* The Cortex-M7 DWT ignores writes until its CoreSight lock is opened. */
static void unlock_dwt_on_m7(void)
{
    if (((CPUID >> 4) & 0xFFFu) == PARTNO_M7)
        DWT_LAR = 0xC5ACCE55u;
}
#endif

/* Two runs; the second one is reported (on hardware the first one fills
 * caches, branch predictors and flash prefetch buffers). */
static int32_t run_twice(ub_fn fn)
{
    (void)fn();
    return (int32_t)fn();
}

int main(void)
{
#if UB_V7M
    unlock_dwt_on_m7();
#endif
    mcusim_cycles_init();

    int32_t baseline = run_twice(ub_empty);
    for (const struct ub_test *t = __start_ub_tests; t < __stop_ub_tests; t++)
        printf("ubench %s %ld\n", t->name, (long)(run_twice(t->fn) - baseline));
    return 0;
}
