/*
 * Startup for every board and core (ARMv6-M and ARMv7-M).
 *
 * Reset_Handler only does what newlib's rdimon crt0 (_start) cannot:
 * copy .data out of flash and turn the FPU on. _start then zeroes .bss,
 * asks the debugger for heap/stack via SYS_HEAPINFO (if the answer is 0,
 * as from OpenOCD or mcusim, it keeps the linker's __stack and `end`),
 * parses the command line, calls main and exit.
 */
#include <stdint.h>

extern uint32_t __StackTop[];
extern uint32_t __data_start__[], __data_end__[], __data_load__[];
extern char __HeapLimit[];
/* Defined in librdimon (syscalls.c); 0xcafedead means "no limit". */
extern char *__heap_limit;

extern void _start(void) __attribute__((noreturn));

void Reset_Handler(void) __attribute__((noreturn));
void Default_Handler(void);

void Reset_Handler(void)
{
    /* Plain word loop rather than memcpy: libc must not run before .data. */
    const uint32_t *src = __data_load__;
    for (uint32_t *dst = __data_start__; dst < __data_end__;)
        *dst++ = *src++;

    /* Let _sbrk refuse to grow into the reserved stack. crt0 overrides this
     * only when SYS_HEAPINFO returns a non-zero heap limit. */
    __heap_limit = __HeapLimit;

#if defined(__ARM_FP)
    /* CPACR: full access to CP10/CP11, else the first VFP instruction
     * (hard-float ABI uses them anywhere) raises a UsageFault. */
    volatile uint32_t *const cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
#endif

    _start();
}

/* Unexpected exceptions park here so a debugger (or a step limit) sees it. */
void Default_Handler(void)
{
    __asm__ volatile("b ." ::: "memory");
    __builtin_unreachable();
}

#define ALIAS_DEFAULT __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) ALIAS_DEFAULT;
void HardFault_Handler(void) ALIAS_DEFAULT;
void SVC_Handler(void) ALIAS_DEFAULT;
void PendSV_Handler(void) ALIAS_DEFAULT;
void SysTick_Handler(void) ALIAS_DEFAULT;
#if !defined(__ARM_ARCH_6M__)
void MemManage_Handler(void) ALIAS_DEFAULT;
void BusFault_Handler(void) ALIAS_DEFAULT;
void UsageFault_Handler(void) ALIAS_DEFAULT;
void DebugMon_Handler(void) ALIAS_DEFAULT;
#define V7M_ONLY(h) h
#else
#define V7M_ONLY(h) 0  /* reserved on ARMv6-M */
#endif

typedef void (*vector_t)(void);

/* Core exceptions only: no program here uses device interrupts. */
__attribute__((section(".isr_vector"), used))
const vector_t mcusim_vectors[16] = {
    (vector_t)__StackTop,          /* initial MSP */
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    V7M_ONLY(MemManage_Handler),
    V7M_ONLY(BusFault_Handler),
    V7M_ONLY(UsageFault_Handler),
    0, 0, 0, 0,
    SVC_Handler,
    V7M_ONLY(DebugMon_Handler),
    0,
    PendSV_Handler,
    SysTick_Handler,
};
