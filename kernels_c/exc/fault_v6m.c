/* fault_v6m: ARMv6-M has HardFault only and no fault status registers: an undefined
 * instruction and an unaligned word load both enter HardFault_Handler. */
#include <stdio.h>

#include "fault_report.h"

static uint32_t words[2] = {0x11111111u, 0x22222222u};

int main(void)
{
    uint32_t v = 0;
    EXPECT_FAULT_AT(site_v6m_udf, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_v6m_udf) "udf #1" ::: "memory");
    EXPECT_FAULT_AT(site_v6m_ldr, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_v6m_ldr) "ldr %0, [%1]" : "+l"(v)
                     : "l"((uint8_t *)words + 1) : "memory");
    printf("%u fault(s), v = %lu\n", fault_count, (unsigned long)v);
    return 0;
}
