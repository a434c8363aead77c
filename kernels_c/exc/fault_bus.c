/* fault_bus: a load from no memory is a precise BusFault (CFSR.PRECISERR, BFAR valid) taken
 * by BusFault_Handler when SHCSR enables it; the handler returns past the load. With the
 * handler disabled, a store there escalates to HardFault (HFSR.FORCED). */
#include <stdio.h>

#include "fault_report.h"

#define NO_MEMORY 0x30000000u

int main(void)
{
    volatile uint32_t *bad = (volatile uint32_t *)NO_MEMORY;
    uint32_t v = 0x1234u;
    SCB_SHCSR |= SHCSR_BUSFAULTENA;
    EXPECT_FAULT_AT(site_bus_load, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_bus_load) "ldr %0, [%1]" : "+r"(v) : "r"(bad) : "memory");
    printf("resumed after %u fault(s)\n", fault_count);
    SCB_SHCSR &= ~SHCSR_BUSFAULTENA;
    EXPECT_FAULT_AT(site_bus_store, FAULT_SKIP);
    __asm__ volatile(FAULT_SITE(site_bus_store) "str %0, [%1, #8]" : : "r"(v), "r"(bad)
                     : "memory");
    printf("resumed after %u fault(s)\n", fault_count);
    return 0;
}
