/*
 * systick_count - SysTick as a vendor HAL uses it: SysTick_Config()-style set-up, a
 * SysTick_Handler that counts ticks, main busy-waiting for TICKS ticks (HAL_Delay).
 *
 * Prints (the same on every board; `cycles:` is masked against QEMU, which reads DWT as 0):
 *     systick: period 2000 cycles, waiting for 11 ticks
 *     systick: 11 ticks, 11 of them in handler mode (IPSR 15)
 *     cycles: <DWT cycles from tick 1 to tick 11 = 10 x 2000; line absent on ARMv6-M>
 * Exit 0; 1 if the interrupt never came (main gives up after TICKS + 50 wraps that it saw
 * through COUNTFLAG without a tick), 2 if the handler saw the wrong IPSR, 3 if the
 * vector table is misplaced (exc_vectors.c).
 */
#include <stdio.h>

#include "exc.h"

#define PERIOD 2000u
#define TICKS 10u

static volatile uint32_t ticks;
static volatile uint32_t handler_mode_entries;
static volatile uint32_t cycles_at[TICKS + 2];

void SysTick_Handler(void)
{
    uint32_t now = exc_cycles();
    uint32_t n = ticks + 1u;
    if (n < TICKS + 2u)
        cycles_at[n] = now;
    if ((exc_get_ipsr() & 0x1FFu) == 15u)
        handler_mode_entries = handler_mode_entries + 1u;
    if (n == TICKS + 1u) {
        SYST_CSR = 0;             /* stop at the last tick: main's count is exact */
        SCB_ICSR = ICSR_PENDSTCLR; /* a wrap during this handler may have left it pending */
    }
    ticks = n;
}

int main(void)
{
    if (!exc_vectors_init()) {
        printf("systick: device vectors misplaced\n");
        return 3;
    }
    exc_cycles_init();
    printf("systick: period %u cycles, waiting for %u ticks\n", (unsigned)PERIOD,
           (unsigned)(TICKS + 1u));
    exc_systick_config(PERIOD);
    uint32_t wraps_seen = 0;
    /* Wait for tick TICKS + 1, so the measured span (tick 1 to tick 11) has equal ends. */
    while (ticks < TICKS + 1u) {
        if (SYST_CSR & SYST_CSR_COUNTFLAG) {   /* reading clears it */
            if (++wraps_seen > TICKS + 50u) {
                SYST_CSR = 0;
                printf("systick: no interrupt after %u wraps (ticks %u)\n",
                       (unsigned)wraps_seen, (unsigned)ticks);
                return 1;
            }
        }
    }
    printf("systick: %u ticks, %u of them in handler mode (IPSR 15)\n", (unsigned)ticks,
           (unsigned)handler_mode_entries);
#if !EXC_V6M
    printf("cycles: %lu\n", (unsigned long)(cycles_at[TICKS + 1u] - cycles_at[1]));
#endif
    return handler_mode_entries == ticks ? 0 : 2;
}
