/*
 * exc.h - the few core registers the exception test programs use (a CMSIS-core subset, so
 * the programs read like vendor firmware without depending on a vendor pack), and helpers
 * shared by the programs in kernels_c/exc/.
 *
 * Register addresses and bit positions: ARMv7-M ARM (DDI 0403E) B3.2 "System Control Space",
 * B3.3 "SysTick", B3.4 "NVIC"; ARMv6-M ARM (DDI 0419E) B3.2-B3.4 (word access only to
 * NVIC_IPR and SHPR on ARMv6-M, no STIR, no BASEPRI/FAULTMASK, no PRIGROUP).
 */
#ifndef EXC_H
#define EXC_H

#include <stdint.h>

#define REG32(addr) (*(volatile uint32_t *)(addr))

/* SysTick */
#define SYST_CSR   REG32(0xE000E010u)
#define SYST_RVR   REG32(0xE000E014u)
#define SYST_CVR   REG32(0xE000E018u)
#define SYST_CSR_ENABLE    (1u << 0)
#define SYST_CSR_TICKINT   (1u << 1)
#define SYST_CSR_CLKSOURCE (1u << 2)
#define SYST_CSR_COUNTFLAG (1u << 16)

/* NVIC (n = 0..31 is all these programs use) */
#define NVIC_ISER0 REG32(0xE000E100u)
#define NVIC_ICER0 REG32(0xE000E180u)
#define NVIC_ISPR0 REG32(0xE000E200u)
#define NVIC_ICPR0 REG32(0xE000E280u)
#define NVIC_IABR0 REG32(0xE000E300u)
#define NVIC_IPR(n) REG32(0xE000E400u + 4u * ((unsigned)(n) / 4u))
#define NVIC_STIR  REG32(0xE000EF00u)     /* ARMv7-M only */

/* SCB */
#define SCB_CPUID  REG32(0xE000ED00u)
#define SCB_ICSR   REG32(0xE000ED04u)
#define SCB_VTOR   REG32(0xE000ED08u)
#define SCB_AIRCR  REG32(0xE000ED0Cu)
#define SCB_SCR    REG32(0xE000ED10u)
#define SCB_CCR    REG32(0xE000ED14u)
#define SCB_SHPR2  REG32(0xE000ED1Cu)     /* [31:24] SVCall */
#define SCB_SHPR3  REG32(0xE000ED20u)     /* [31:24] SysTick, [23:16] PendSV */
#define SCB_SHCSR  REG32(0xE000ED24u)
#define ICSR_NMIPENDSET  (1u << 31)
#define ICSR_PENDSVSET   (1u << 28)
#define ICSR_PENDSVCLR   (1u << 27)
#define ICSR_PENDSTSET   (1u << 26)
#define ICSR_PENDSTCLR   (1u << 25)
#define ICSR_VECTACTIVE  0x1FFu
#define AIRCR_VECTKEY    (0x05FAu << 16)

/* FPU (ARMv7-M with FP extension) */
#define FPU_FPCCR  REG32(0xE000EF34u)
#define FPU_FPCAR  REG32(0xE000EF38u)
#define FPCCR_LSPACT (1u << 0)
#define FPCCR_LSPEN  (1u << 30)
#define FPCCR_ASPEN  (1u << 31)

/* DWT cycle counter (ARMv7-M; QEMU 7.2 reads it as 0) */
#define DEMCR      REG32(0xE000EDFCu)
#define DWT_CTRL   REG32(0xE0001000u)
#define DWT_CYCCNT REG32(0xE0001004u)
#define DWT_LAR    REG32(0xE0001FB0u)

#if defined(__ARM_ARCH_6M__)
#define EXC_V6M 1
#else
#define EXC_V6M 0
#endif

static inline void exc_enable_irq(void) { __asm__ volatile("cpsie i" ::: "memory"); }
static inline void exc_disable_irq(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void exc_barrier(void) { __asm__ volatile("dsb\n\tisb" ::: "memory"); }
static inline void exc_wfi(void) { __asm__ volatile("wfi" ::: "memory"); }

static inline uint32_t exc_get_control(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, control" : "=r"(v));
    return v;
}

static inline uint32_t exc_get_ipsr(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, ipsr" : "=r"(v));
    return v;
}

#if !EXC_V6M
static inline void exc_set_basepri(uint32_t v)
{
    __asm__ volatile("msr basepri, %0" ::"r"(v) : "memory");
}
static inline uint32_t exc_get_basepri(void)
{
    uint32_t v;
    __asm__ volatile("mrs %0, basepri" : "=r"(v));
    return v;
}
#endif

/* IRQ n's priority byte, by word read-modify-write (the only access ARMv6-M allows). */
static inline void exc_set_irq_priority(unsigned n, uint8_t prio)
{
    unsigned shift = 8u * (n % 4u);
    NVIC_IPR(n) = (NVIC_IPR(n) & ~(0xFFu << shift)) | ((uint32_t)prio << shift);
}

/* SysTick_Config() as in CMSIS core_cm*.h: reload, lowest priority, counter cleared,
 * core clock, interrupt and counter on. */
static inline void exc_systick_config(uint32_t ticks)
{
    SYST_RVR = ticks - 1u;
    SCB_SHPR3 = (SCB_SHPR3 & 0x00FFFFFFu) | (0xFFu << 24);
    SYST_CVR = 0;
    SYST_CSR = SYST_CSR_CLKSOURCE | SYST_CSR_TICKINT | SYST_CSR_ENABLE;
}

/* The cycle counter of the ARMv7-M cores (0 under QEMU, absent on ARMv6-M). */
static inline void exc_cycles_init(void)
{
#if !EXC_V6M
    if (((SCB_CPUID >> 4) & 0xFFFu) == 0xC27u)   /* Cortex-M7: open the DWT lock */
        DWT_LAR = 0xC5ACCE55u;
    DEMCR |= 1u << 24;
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1u;
#endif
}

static inline uint32_t exc_cycles(void)
{
#if EXC_V6M
    return 0;
#else
    return DWT_CYCCNT;
#endif
}

/* Point VTOR at the vector table (common/startup.c) followed by the program's device
 * vectors (exc_vectors.c), as vendor SystemInit() does; returns 0 if the device
 * vectors were not linked right after the 16 core entries. */
int exc_vectors_init(void);

/* The program's device-interrupt handlers, IRQ 0..EXC_NUM_IRQ-1 (weak: unused ones park in
 * Default_Handler). */
#define EXC_NUM_IRQ 8
void IRQ0_Handler(void);
void IRQ1_Handler(void);
void IRQ2_Handler(void);
void IRQ3_Handler(void);
void IRQ4_Handler(void);
void IRQ5_Handler(void);
void IRQ6_Handler(void);
void IRQ7_Handler(void);

#endif /* EXC_H */
