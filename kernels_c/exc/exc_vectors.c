/*
 * Device-interrupt vectors 16.. for the exception test programs: linked right after the 16
 * core entries of common/startup.c (same input section, startup.o comes first on the link
 * line), the way a vendor start-up file's table continues with IRQ0.. . exc_vectors_init()
 * checks that placement at run time and sets VTOR, as vendor SystemInit() does.
 */
#include "exc.h"

typedef void (*vector_t)(void);

extern const vector_t mcusim_vectors[16];

/* An interrupt nobody expected parks here, like Default_Handler in startup.c (an alias must
 * name a symbol of the same file). */
void Unexpected_IRQ_Handler(void);
void Unexpected_IRQ_Handler(void)
{
    __asm__ volatile("b ." ::: "memory");
    __builtin_unreachable();
}

#define ALIAS_DEFAULT __attribute__((weak, alias("Unexpected_IRQ_Handler")))
void IRQ0_Handler(void) ALIAS_DEFAULT;
void IRQ1_Handler(void) ALIAS_DEFAULT;
void IRQ2_Handler(void) ALIAS_DEFAULT;
void IRQ3_Handler(void) ALIAS_DEFAULT;
void IRQ4_Handler(void) ALIAS_DEFAULT;
void IRQ5_Handler(void) ALIAS_DEFAULT;
void IRQ6_Handler(void) ALIAS_DEFAULT;
void IRQ7_Handler(void) ALIAS_DEFAULT;

__attribute__((section(".isr_vector"), used))
const vector_t exc_device_vectors[EXC_NUM_IRQ] = {
    IRQ0_Handler, IRQ1_Handler, IRQ2_Handler, IRQ3_Handler,
    IRQ4_Handler, IRQ5_Handler, IRQ6_Handler, IRQ7_Handler,
};

int exc_vectors_init(void)
{
    /* Through integers the compiler cannot see through: it may assume two distinct
     * objects never touch and fold a plain pointer comparison. */
    uintptr_t device = (uintptr_t)exc_device_vectors;
    uintptr_t core_end = (uintptr_t)mcusim_vectors + sizeof mcusim_vectors;
    __asm__("" : "+r"(device), "+r"(core_end));
    if (device != core_end)
        return 0;
    SCB_VTOR = (uint32_t)mcusim_vectors;
    exc_barrier();
    return 1;
}
