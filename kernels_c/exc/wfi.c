/*
 * wfi - sleeping until the next SysTick with WFI, as an idle loop or a tickless idle does.
 *
 * Part 1: after a first tick, `while (ticks < 11) { wfi(); wakeups++; }` with the tick
 * interrupt enabled: every WFI returns after exactly one tick (nothing else can wake the core),
 * so 10 wakeups for 10 ticks (kept in `wfi_wakeups`); the handler stops SysTick at tick 11.
 * Part 2 (FreeRTOS tickless idle): with PRIMASK set, WFI still wakes on the pending tick
 * (ARMv7-M ARM B1.5.19, ARMv6-M B1.5.17: PRIMASK does not stop a wakeup), the handler runs
 * only after CPSIE.
 *
 * Prints (every board; `cycles:` masked against QEMU, where DWT reads 0):
 *     wfi: period 50000 cycles
 *     wfi: 10 ticks after the first, every wakeup with a tick
 *     cycles: <DWT cycles from tick 1 to tick 11: 10 x 50000; line absent on ARMv6-M>
 *     wfi: masked wakeup, tick pending 1, handled after cpsie 1
 * Exit 0; 1 if counts differ.
 */
#include <stdio.h>

#include "exc.h"

/* 2 ms under QEMU (25 MHz, wall clock), so a host stall merging two ticks into one wakeup
 * is unlikely; under mcusim WFI skips the time, so a long period costs nothing. */
#define PERIOD 50000u
#define TICKS 11u

static volatile uint32_t ticks;
/* WFI returns in the counting loop: exactly 10 when every tick wakes the core on its own. Not
 * printed: under QEMU the tick is wall-clock time, and a host stall of more than a period can
 * make one wakeup see two ticks; tests read it from the ELF symbol after an mcusim run. */
volatile uint32_t wfi_wakeups __attribute__((used));
static volatile uint32_t stop_at = TICKS;
static volatile uint32_t cycles_at[TICKS + 1];

void SysTick_Handler(void)
{
    uint32_t now = exc_cycles();
    uint32_t n = ticks + 1u;
    if (n <= TICKS)
        cycles_at[n] = now;
    if (n == stop_at) {
        SYST_CSR = 0;             /* no tick after the last one counted */
        SCB_ICSR = ICSR_PENDSTCLR; /* a wrap during this handler may have left it pending */
    }
    ticks = n;
}

int main(void)
{
    if (!exc_vectors_init()) {
        printf("wfi: device vectors misplaced\n");
        return 3;
    }
    exc_cycles_init();
    printf("wfi: period %u cycles\n", (unsigned)PERIOD);
    exc_systick_config(PERIOD);
    uint32_t wakeups = 0, idle_wakeups = 0;
    while (ticks < 1u && wakeups < 100u) {       /* in step with the tick from here on */
        exc_wfi();
        wakeups++;
    }
    wakeups = 0;
    while (ticks < TICKS && wakeups < 100u) {    /* (100: give up, no tick wakes us) */
        uint32_t seen = ticks;
        exc_wfi();
        wakeups++;
        idle_wakeups += ticks == seen;
    }
    wfi_wakeups = wakeups;
    printf("wfi: %u ticks after the first, %s\n", (unsigned)(ticks - 1u),
           idle_wakeups ? "some wakeups without a tick" : "every wakeup with a tick");
#if !EXC_V6M
    printf("cycles: %lu\n", (unsigned long)(cycles_at[TICKS] - cycles_at[1]));
#endif

    exc_disable_irq();
    uint32_t before = ticks;
    stop_at = before + 1u;
    exc_systick_config(PERIOD);
    exc_wfi();                                   /* wakes on the pending tick */
    uint32_t pending = (SCB_ICSR & ICSR_PENDSTSET) != 0u;
    uint32_t early = ticks - before;             /* 0: the handler has not run */
    exc_enable_irq();
    exc_barrier();
    uint32_t handled = ticks - before;
    printf("wfi: masked wakeup, tick pending %u, handled after cpsie %u\n",
           (unsigned)pending, (unsigned)(handled - early));
    return (idle_wakeups == 0u && wakeups < 100u && pending == 1u && early == 0u &&
            handled == 1u) ? 0 : 1;
}
