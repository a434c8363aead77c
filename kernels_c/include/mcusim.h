/*
 * mcusim.h - firmware-side helpers for running under the mcusim simulator
 * (and, unchanged, under QEMU or on real hardware).
 *
 * REGION MARKER CONTRACT (user-facing API)
 * ----------------------------------------
 *   MCUSIM_REGION_BEGIN("name");  ...code to measure...  MCUSIM_REGION_END("name");
 *
 * The macros call mcusim_region_begin()/mcusim_region_end(), two real,
 * out-of-line functions (common/mcusim.c) whose bodies do nothing. mcusim
 * places a code hook on exactly these two symbol addresses, reads the
 * NUL-terminated region name from the pointer in r0 at entry, and attributes
 * everything executed between a BEGIN and the matching END (same name) to
 * that region. Therefore:
 *   - the name must point to readable memory (a string literal is ideal);
 *   - regions may nest, BEGIN/END must pair up by name;
 *   - the markers cost one call + return (a few cycles), counted outside
 *     the region only approximately - keep regions much larger than that;
 *   - under QEMU or on hardware they are plain no-op calls.
 * Define MCUSIM_NO_REGIONS to compile the markers out entirely.
 *
 * Cycle counter: mcusim_cycles_init() then mcusim_cycles() returns cycles
 * since init. ARMv7-M uses DWT_CYCCNT (32 bit). ARMv6-M (M0/M0+) has no
 * DWT counter, so SysTick is used instead: 24 bit, so the value wraps after
 * 2^24 cycles - only measure shorter intervals there. QEMU 7.2 implements
 * neither DEMCR nor the DWT (both read as zero, writes ignored, no fault),
 * so under QEMU mcusim_cycles() returns 0 on ARMv7-M.
 *
 * Semihosting: mcusim_semihost() issues BKPT 0xAB (needs a debugger, QEMU
 * -semihosting or mcusim; on a bare board it faults).
 */
#ifndef MCUSIM_H
#define MCUSIM_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- semihosting ---------------------------------------------------- */

#define MCUSIM_SYS_EXIT           0x18
#define MCUSIM_SYS_EXIT_EXTENDED  0x20
#define MCUSIM_ADP_APPLICATION_EXIT 0x20026

/* One semihosting call: r0 = op, r1 = arg, returns r0. */
static inline int mcusim_semihost(int op, void *arg)
{
    register int r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* Exit with a status code without going through newlib (no atexit, no
 * stdio flush). */
void mcusim_exit(int code) __attribute__((noreturn));

/* ---- cycle counter -------------------------------------------------- */

#define MCUSIM_DEMCR       (*(volatile uint32_t *)0xE000EDFCu)
#define MCUSIM_DWT_CTRL    (*(volatile uint32_t *)0xE0001000u)
#define MCUSIM_DWT_CYCCNT  (*(volatile uint32_t *)0xE0001004u)
#define MCUSIM_SYST_CSR    (*(volatile uint32_t *)0xE000E010u)
#define MCUSIM_SYST_RVR    (*(volatile uint32_t *)0xE000E014u)
#define MCUSIM_SYST_CVR    (*(volatile uint32_t *)0xE000E018u)

void mcusim_cycles_init(void);

static inline uint32_t mcusim_cycles(void)
{
#if defined(__ARM_ARCH_6M__)
    /* SysTick counts down from 0xFFFFFF; wraps every 2^24 cycles. */
    return 0xFFFFFFu - (MCUSIM_SYST_CVR & 0xFFFFFFu);
#else
    return MCUSIM_DWT_CYCCNT;
#endif
}

/* ---- region markers (see contract above) ---------------------------- */

void mcusim_region_begin(const char *name);
void mcusim_region_end(const char *name);

#ifdef MCUSIM_NO_REGIONS
#define MCUSIM_REGION_BEGIN(name) ((void)(name))
#define MCUSIM_REGION_END(name)   ((void)(name))
#else
#define MCUSIM_REGION_BEGIN(name) mcusim_region_begin(name)
#define MCUSIM_REGION_END(name)   mcusim_region_end(name)
#endif

/* ---- console UART ---------------------------------------------------- */
/* Writes straight to the board's console UART (selected by the Makefile via
 * MCUSIM_UART_<kind> and MCUSIM_UART_BASE), polling its ready flag. Only the
 * transmitter is touched: clocks, pins and baud rate are assumed set up
 * (true in QEMU and mcusim; on real STM32/nRF boards they are not). */
void mcusim_uart_putc(char c);
void mcusim_uart_puts(const char *s);

#ifdef __cplusplus
}
#endif

#endif /* MCUSIM_H */
