/* fault_unaligned: LDRD, STRD, LDM and STM need word-aligned addresses on ARMv7-M whatever
 * CCR.UNALIGN_TRP says (UsageFault UNALIGNED); a plain LDR may be unaligned unless
 * CCR.UNALIGN_TRP is set. */
#include <stdio.h>

#include "fault_report.h"

static uint32_t words[4] = {0x11111111u, 0x22222222u, 0x33333333u, 0x44444444u};

int main(void)
{
    uint8_t *odd = (uint8_t *)words + 2;
    uint32_t a = 0, b = 0;
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    __asm__ volatile("ldr %0, [%1]" : "=r"(a) : "r"(odd) : "memory");
    printf("unaligned ldr: %08lx\n", (unsigned long)a);
    EXPECT_FAULT_AT(site_ldrd, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_ldrd) "ldrd %0, %1, [%2]" : "=r"(a), "=r"(b) : "r"(odd)
                     : "memory");
    EXPECT_FAULT_AT(site_stm, FAULT_SKIP);
    __asm__ volatile("mov r0, %0\n" FAULT_SITE(site_stm) "stmia r0!, {r2, r3}"
                     : : "r"(odd) : "r0", "memory");
    SCB_CCR |= CCR_UNALIGN_TRP;
    exc_barrier();
    EXPECT_FAULT_AT(site_ldr_trap, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_ldr_trap) "ldr %0, [%1]" : "=r"(a) : "r"(odd) : "memory");
    SCB_CCR &= ~CCR_UNALIGN_TRP;
    exc_barrier();
    printf("words %08lx %08lx, %u fault(s)\n", (unsigned long)words[0],
           (unsigned long)words[1], fault_count);
    return 0;
}
