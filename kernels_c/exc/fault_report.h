/* fault_report.h - the fault handlers of the kernels_c/exc/fault_*.c programs (issue 13):
 * each handler prints which fault it is and the fault status registers (ARMv7-M ARM
 * B3.2.15-B3.2.18: CFSR, HFSR, MMFAR and BFAR when their VALID bit is set; ARMv6-M has none),
 * where the fault happened, and then does what the program asked (fault_action). */
#ifndef FAULT_REPORT_H
#define FAULT_REPORT_H

#include <stdint.h>

#include "exc.h"

#define SCB_CFSR  REG32(0xE000ED28u)
#define SCB_HFSR  REG32(0xE000ED2Cu)
#define SCB_MMFAR REG32(0xE000ED34u)
#define SCB_BFAR  REG32(0xE000ED38u)
#define SHCSR_MEMFAULTENA (1u << 16)
#define SHCSR_BUSFAULTENA (1u << 17)
#define SHCSR_USGFAULTENA (1u << 18)
#define CCR_UNALIGN_TRP   (1u << 3)
#define CCR_DIV_0_TRP     (1u << 4)

enum fault_action {
    FAULT_SKIP,      /* return after the faulting instruction */
    FAULT_RETURN_LR, /* return to the stacked LR (the fault was in a call) */
    FAULT_EXIT,      /* exit(0) from the handler */
};

/* What the next fault handler does, and the address the program expects it at. */
extern volatile enum fault_action fault_action;
extern volatile uint32_t fault_expected_pc;
extern volatile unsigned fault_count;

/* The code of a fault site: a global label on the instruction that faults. */
#define FAULT_SITE(name) ".global " #name "\n" #name ":\n"
#define EXPECT_FAULT_AT(name, action)                 \
    do {                                              \
        extern char name[];                           \
        fault_expected_pc = (uint32_t)name & ~1u;     \
        fault_action = (action);                      \
    } while (0)

#endif /* FAULT_REPORT_H */
