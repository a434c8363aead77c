/* fault_handlers.c - HardFault, MemManage, BusFault and UsageFault handlers shared by the
 * fault_*.c programs (see fault_report.h). Each handler finds the stacked frame (MSP or PSP
 * by EXC_RETURN bit 2), prints the fault, clears the status bits (write 1 to clear) and
 * returns or exits as fault_action says. */
#include <stdio.h>
#include <stdlib.h>

#include "fault_report.h"

volatile enum fault_action fault_action = FAULT_EXIT;
volatile uint32_t fault_expected_pc;
volatile unsigned fault_count;

static const char *const fault_names[] = {
    [3] = "HardFault", [4] = "MemManage", [5] = "BusFault", [6] = "UsageFault",
};

static unsigned insn_size(uint32_t pc)
{
    uint16_t hw = *(volatile uint16_t *)pc;
    unsigned top = hw >> 11;
    return (top == 0x1Du || top == 0x1Eu || top == 0x1Fu) ? 4u : 2u;
}

void fault_report(uint32_t *frame);

void fault_report(uint32_t *frame)
{
    unsigned exc = exc_get_ipsr() & 0x1FFu;
    uint32_t pc = frame[6];
    fault_count++;
    printf("%s", exc < 7 ? fault_names[exc] : "exception");
#if !EXC_V6M
    uint32_t cfsr = SCB_CFSR, hfsr = SCB_HFSR;
    printf(": CFSR=%08lx HFSR=%08lx", (unsigned long)cfsr, (unsigned long)hfsr);
    if (cfsr & (1u << 7))
        printf(" MMFAR=%08lx", (unsigned long)SCB_MMFAR);
    if (cfsr & (1u << 15))
        printf(" BFAR=%08lx", (unsigned long)SCB_BFAR);
    SCB_CFSR = cfsr;
    SCB_HFSR = hfsr;
#endif
    if (pc == fault_expected_pc)
        printf(" at the fault site\n");
    else
        printf(" at pc=%08lx (expected %08lx)\n", (unsigned long)pc,
               (unsigned long)fault_expected_pc);
    switch (fault_action) {
    case FAULT_SKIP:
        frame[6] = pc + insn_size(pc);
        break;
    case FAULT_RETURN_LR:
        frame[6] = frame[5] & ~1u;
        frame[7] |= 1u << 24; /* Thumb state (clear in the frame after INVSTATE) */
        break;
    case FAULT_EXIT:
    default:
        exit(0);
    }
    fault_action = FAULT_EXIT; /* a second, unexpected fault ends the program */
}

/* The handlers: the frame pointer in r0, then fault_report (LR stays EXC_RETURN, so its
 * return is the exception return). Thumb-1 only, for ARMv6-M too. */
#define FAULT_HANDLER(name)                                         \
    __attribute__((naked)) void name(void)                          \
    {                                                               \
        __asm__ volatile("movs r0, #4\n"                            \
                         "mov r1, lr\n"                             \
                         "tst r0, r1\n"                             \
                         "bne 1f\n"                                 \
                         "mrs r0, msp\n"                            \
                         "b 2f\n"                                   \
                         "1: mrs r0, psp\n"                         \
                         "2: ldr r2, 3f\n"                          \
                         "bx r2\n"                                  \
                         ".align 2\n"                               \
                         "3: .word fault_report\n");                \
    }

FAULT_HANDLER(HardFault_Handler)
#if !EXC_V6M
FAULT_HANDLER(MemManage_Handler)
FAULT_HANDLER(BusFault_Handler)
FAULT_HANDLER(UsageFault_Handler)
#endif
