/* fault_undef: UDF is a UsageFault UNDEFINSTR; the handler returns past it. With the
 * UsageFault handler disabled the next one escalates to HardFault (HFSR.FORCED). */
#include <stdio.h>

#include "fault_report.h"

int main(void)
{
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    EXPECT_FAULT_AT(site_udf, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_udf) "udf #7" ::: "memory");
    printf("resumed after %u fault(s)\n", fault_count);
    SCB_SHCSR &= ~SHCSR_USGFAULTENA;
    EXPECT_FAULT_AT(site_udf_hard, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_udf_hard) "udf #8" ::: "memory");
    printf("resumed after %u fault(s)\n", fault_count);
    return 0;
}
