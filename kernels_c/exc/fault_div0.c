/* fault_div0: with CCR.DIV_0_TRP set, SDIV and UDIV by zero are UsageFaults DIVBYZERO; with it
 * clear they give 0 (ARMv7-M ARM A7.7.127). */
#include <stdio.h>

#include "fault_report.h"

int main(void)
{
    uint32_t q = 99u, zero = 0u, n = 100u;
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    __asm__ volatile("udiv %0, %1, %2" : "=r"(q) : "r"(n), "r"(zero));
    printf("100 / 0 = %lu without the trap\n", (unsigned long)q);
    SCB_CCR |= CCR_DIV_0_TRP;
    exc_barrier();
    q = 99u;
    EXPECT_FAULT_AT(site_sdiv, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_sdiv) "sdiv %0, %1, %2" : "+r"(q) : "r"(n), "r"(zero));
    printf("q = %lu after the trap (the divide did not complete)\n", (unsigned long)q);
    __asm__ volatile("udiv %0, %1, %2" : "=r"(q) : "r"(n), "r"(4u));
    printf("100 / 4 = %lu with the trap set\n", (unsigned long)q);
    SCB_CCR &= ~CCR_DIV_0_TRP;
    printf("%u fault(s)\n", fault_count);
    return 0;
}
