/* fault_invstate: a branch to an address with bit 0 clear would leave Thumb state: UsageFault
 * INVSTATE at the target; the handler returns to the caller in Thumb state. */
#include <stdio.h>

#include "fault_report.h"

static int leaf(void) { return 42; }

int main(void)
{
    SCB_SHCSR |= SHCSR_USGFAULTENA;
    uint32_t target = (uint32_t)&leaf & ~1u;
    fault_expected_pc = target;
    fault_action = FAULT_RETURN_LR;
    __asm__ volatile("blx %0" : : "r"(target) : "r0", "r1", "r2", "r3", "r12", "lr", "memory");
    printf("back in main after %u fault(s); leaf() = %d\n", fault_count, leaf());
    return 0;
}
