/*
 * ub_config.h - which test groups a core gets. Included by ubench.c and by
 * every ub_*.S file (through ub_asm.h), so the C side and the assembly side
 * always agree. Only the compiler's predefined macros are used:
 *
 *   UB_V6M   ARMv6-M (Cortex-M0/M0+): SysTick as the counter, 16-bit ISA only
 *   UB_V7M   ARMv7-M, ARMv7E-M or ARMv8-M Mainline (M3/M4/M7/M33): DWT_CYCCNT, Thumb-2
 *   UB_V8M   ARMv8-M Mainline (M33): tests of rules measured on the M33 only
 *   UB_DSP   the DSP/SIMD extension (M4/M7/M33)
 *   UB_FPU   a hardware single-precision FPU with the hard-float ABI (M4F/M7F/M33F)
 */
#ifndef UB_CONFIG_H
#define UB_CONFIG_H

#if defined(__ARM_ARCH_6M__)
#define UB_V6M 1
#define UB_V7M 0
#elif defined(__ARM_ARCH_7M__) || defined(__ARM_ARCH_7EM__) || defined(__ARM_ARCH_8M_MAIN__)
#define UB_V6M 0
#define UB_V7M 1
#else
#error "ubench: unsupported architecture (ARMv6-M, ARMv7-M, ARMv7E-M or ARMv8-M Mainline)"
#endif

#if defined(__ARM_ARCH_8M_MAIN__)
#define UB_V8M 1
#else
#define UB_V8M 0
#endif

#if defined(__ARM_FEATURE_DSP)
#define UB_DSP 1
#else
#define UB_DSP 0
#endif

#if defined(__ARM_FP) && !defined(__SOFTFP__)
#define UB_FPU 1
#else
#define UB_FPU 0
#endif

/* Cycle counter read inside every timed window. */
#if UB_V6M
#define UB_COUNTER 0xE000E018   /* SYST_CVR: 24-bit down counter */
#else
#define UB_COUNTER 0xE0001004   /* DWT_CYCCNT: 32-bit up counter */
#endif

#endif /* UB_CONFIG_H */
