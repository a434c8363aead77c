/* fault_mem: a call into the Peripheral region, which the default memory map makes Execute
 * Never, is a MemManage fault (CFSR.IACCVIOL, MMFAR not valid) at the address fetched; the
 * handler returns to the caller (the stacked LR). */
#include <stdio.h>

#include "fault_report.h"

#define PERIPHERAL_CODE 0x40000000u

int main(void)
{
    SCB_SHCSR |= SHCSR_MEMFAULTENA;
    fault_expected_pc = PERIPHERAL_CODE;
    fault_action = FAULT_RETURN_LR;
    void (*volatile jump)(void) = (void (*)(void))(PERIPHERAL_CODE | 1u);
    jump();
    printf("returned to main after %u fault(s)\n", fault_count);
    return 0;
}
