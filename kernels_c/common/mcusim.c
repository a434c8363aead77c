/* Implementation of include/mcusim.h. */
#include "mcusim.h"

void mcusim_exit(int code)
{
    /* SYS_EXIT_EXTENDED carries the code; plain SYS_EXIT (fallback for
     * hosts without the extension) can only say "application exit". */
    volatile uint32_t block[2] = {MCUSIM_ADP_APPLICATION_EXIT, (uint32_t)code};
    mcusim_semihost(MCUSIM_SYS_EXIT_EXTENDED, (void *)block);
    mcusim_semihost(MCUSIM_SYS_EXIT, (void *)MCUSIM_ADP_APPLICATION_EXIT);
    for (;;) {
    }
}

void mcusim_cycles_init(void)
{
#if defined(__ARM_ARCH_6M__)
    MCUSIM_SYST_CSR = 0;
    MCUSIM_SYST_RVR = 0xFFFFFFu;
    MCUSIM_SYST_CVR = 0;          /* any write clears it; reloads RVR */
    MCUSIM_SYST_CSR = 0x5u;       /* CLKSOURCE = core clock | ENABLE, no IRQ */
#else
    MCUSIM_DEMCR |= 1u << 24;     /* TRCENA: powers the DWT */
    MCUSIM_DWT_CYCCNT = 0;
    MCUSIM_DWT_CTRL |= 1u;        /* CYCCNTENA */
#endif
}

/* The simulator hooks these two addresses (see the contract in mcusim.h).
 * noipa keeps GCC from merging the identical bodies (IPA ICF) or inlining
 * them into callers; the distinct asm comments are a second guard. */
__attribute__((noinline, noipa, used)) void mcusim_region_begin(const char *name)
{
    (void)name;
    __asm__ volatile("/* mcusim_region_begin */" ::: "memory");
}

__attribute__((noinline, noipa, used)) void mcusim_region_end(const char *name)
{
    (void)name;
    __asm__ volatile("/* mcusim_region_end */" ::: "memory");
}

/* ---- console UART: one transmit routine per register layout --------- */

#define REG(off) (*(volatile uint32_t *)(MCUSIM_UART_BASE + (off)))

#if defined(MCUSIM_UART_CMSDK)
/* ARM CMSDK APB UART: DATA +0x0, STATE +0x4 (bit0 TX full), CTRL +0x8
 * (bit0 TX enable), BAUDDIV +0x10. */
void mcusim_uart_putc(char c)
{
    if (!(REG(0x8) & 1u)) {
        REG(0x10) = 217u;         /* 25 MHz / 115200; QEMU ignores it */
        REG(0x8) |= 1u;
    }
    while (REG(0x4) & 1u) {
    }
    REG(0x0) = (uint8_t)c;
}
#elif defined(MCUSIM_UART_STM32_SR)
/* STM32F1/F4 USART: SR +0x00 (bit7 TXE), DR +0x04. */
void mcusim_uart_putc(char c)
{
    while (!(REG(0x00) & (1u << 7))) {
    }
    REG(0x04) = (uint8_t)c;
}
#elif defined(MCUSIM_UART_STM32_ISR)
/* STM32F7/L4/G0 USART/LPUART: ISR +0x1C (bit7 TXE), TDR +0x28. */
void mcusim_uart_putc(char c)
{
    while (!(REG(0x1C) & (1u << 7))) {
    }
    REG(0x28) = (uint8_t)c;
}
#elif defined(MCUSIM_UART_NRF)
/* nRF52 UART0: ENABLE +0x500 (4 = UART), TASKS_STARTTX +0x008,
 * EVENTS_TXDRDY +0x11C, TXD +0x51C. TXDRDY fires after each byte, so the
 * wait is after the write, as in Nordic's own driver. */
void mcusim_uart_putc(char c)
{
    static int started;
    if (!started) {
        REG(0x500) = 4u;
        REG(0x008) = 1u;
        started = 1;
    }
    REG(0x11C) = 0;
    REG(0x51C) = (uint8_t)c;
    while (!REG(0x11C)) {
    }
}
#else
#error "no console UART selected: define MCUSIM_UART_<kind> and MCUSIM_UART_BASE"
#endif

void mcusim_uart_puts(const char *s)
{
    while (*s)
        mcusim_uart_putc(*s++);
}
