/*
 * nested - priorities, preemption, masking and tail-chaining of software-pended interrupts.
 * Every handler appends "<n>< " on entry and "<n>> " on exit to a log (N = NMI, S = SVCall,
 * P = PendSV); main prints the log of each scenario and compares it with the order the
 * architecture prescribes (ARMv7-M ARM B1.5.4 "Exception priorities and preemption", ARMv6-M
 * ARM B1.5.4): "ok" or "WRONG" at the end of each line. Pending: NVIC_STIR and NVIC_ISPR on
 * ARMv7-M, NVIC_ISPR only on ARMv6-M (no STIR there); each pend is followed by DSB+ISB, after
 * which the interrupt must have been taken if it can preempt.
 *
 * Priorities (top two bits only, as ARMv6-M implements, except IRQ6 in the PRIGROUP case):
 *   IRQ0 0xC0, IRQ1 0x80, IRQ2 0x40, IRQ3 0x80, IRQ4 0x80, IRQ5 0x80, IRQ6 0xA0, IRQ7 0x80,
 *   SVCall 0x00, PendSV 0xC0.
 *
 * Prints (ARMv7-M; ARMv6-M prints the lines marked v7 as "... skipped (ARMv6-M)"):
 *   nested priority bits: 8                     (QEMU MPS2: 8; STM32F4/F7/F1: 4; STM32G0: 2)
 *   nested preempt: 0< 1< 2< S< S> 2> 1> 3< 3> 0> ok
 *   nested in IRQ2: vectactive 18, active 0 1 2 ok              (v7: IABR; v6: "vectactive 18 ok")
 *   nested primask: N< N> | 2< 2> 0< 0> ok
 *   nested basepri: 2< 2> | 0< 0> ok                              (v7)
 *   nested tie: 4< 4> 5< 5> P< P> ok
 *   nested prigroup 0: 6< 7< 7> 6> ok                             (v7)
 *   nested prigroup 5: 6< 6> 7< 7> ok                             (v7)
 *   nested vtor in RAM: R< R> 0< 0> ok        (IRQ0 through a RAM copy of the table, then flash)
 *   nested: 0 wrong
 * Exit status: the number of wrong lines.
 */
#include <stdio.h>
#include <string.h>

#include "exc.h"

static char log_buf[160];
static volatile unsigned log_len;
static volatile uint32_t seen_vectactive, seen_active;
static volatile int pend_in_irq6, chain_from_irq0;
static unsigned wrong;

/* Appending must not be torn by a preempting handler: PRIMASK around it, restored after. */
static void log_event(char who, char what)
{
    uint32_t primask;
    __asm__ volatile("mrs %0, primask" : "=r"(primask));
    exc_disable_irq();
    unsigned n = log_len;
    if (n + 3u < sizeof log_buf) {
        log_buf[n] = who;
        log_buf[n + 1u] = what;
        log_buf[n + 2u] = ' ';
        log_len = n + 3u;
    }
    __asm__ volatile("msr primask, %0" ::"r"(primask) : "memory");
}

static void log_mark(void)
{
    log_event('|', ' ');
    log_len = log_len - 1u;       /* "| " rather than "|  " */
}

static void pend(unsigned irq)
{
#if EXC_V6M
    NVIC_ISPR0 = 1u << irq;
#else
    if (irq % 2u)
        NVIC_ISPR0 = 1u << irq;
    else
        NVIC_STIR = irq;          /* software trigger (ARMv7-M only) */
#endif
    exc_barrier();
}

static void check(const char *name, const char *expected)
{
    log_buf[log_len] = '\0';
    int ok = strcmp(log_buf, expected) == 0;
    wrong += !ok;
    printf("nested %s: %s%s\n", name, log_buf, ok ? "ok" : "WRONG");
    log_len = 0;
}

void IRQ0_Handler(void)
{
    log_event('0', '<');
    if (chain_from_irq0)
        pend(1);                  /* higher priority: preempts at once */
    log_event('0', '>');
}

void IRQ1_Handler(void)
{
    log_event('1', '<');
    pend(3);                      /* same priority: waits, then preempts IRQ0 (tail-chain) */
    pend(2);                      /* higher: preempts at once */
    log_event('1', '>');
}

void IRQ2_Handler(void)
{
    log_event('2', '<');
    seen_vectactive = SCB_ICSR & ICSR_VECTACTIVE;
#if !EXC_V6M
    seen_active = NVIC_IABR0 & 0xFFu;
#endif
    if (seen_vectactive == 18u && log_len == 9u)   /* only in the preemption scenario */
        __asm__ volatile("svc 2" ::: "memory");    /* SVCall 0x00 preempts synchronously */
    log_event('2', '>');
}

void IRQ3_Handler(void) { log_event('3', '<'); log_event('3', '>'); }

void IRQ4_Handler(void)
{
    log_event('4', '<');
    SCB_ICSR = ICSR_PENDSVSET;    /* lowest priority: after IRQ5 */
    exc_barrier();
    log_event('4', '>');
}

void IRQ5_Handler(void) { log_event('5', '<'); log_event('5', '>'); }

void IRQ6_Handler(void)
{
    log_event('6', '<');
    if (pend_in_irq6)
        pend(7);
    log_event('6', '>');
}

void IRQ7_Handler(void) { log_event('7', '<'); log_event('7', '>'); }
static void RamIRQ0_Handler(void) { log_event('R', '<'); log_event('R', '>'); }
void NMI_Handler(void) { log_event('N', '<'); log_event('N', '>'); }
void SVC_Handler(void) { log_event('S', '<'); log_event('S', '>'); }
void PendSV_Handler(void) { log_event('P', '<'); log_event('P', '>'); }

static void set_priorities(void)
{
    static const uint8_t prio[EXC_NUM_IRQ] = {0xC0, 0x80, 0x40, 0x80, 0x80, 0x80, 0xA0, 0x80};
    for (unsigned n = 0; n < EXC_NUM_IRQ; n++)
        exc_set_irq_priority(n, prio[n]);
    SCB_SHPR2 = 0x00u << 24;                                   /* SVCall */
    SCB_SHPR3 = (SCB_SHPR3 & 0xFF00FFFFu) | (0xC0u << 16);     /* PendSV */
    NVIC_ICPR0 = 0xFFu;
    NVIC_ISER0 = 0xFFu;
}

int main(void)
{
    if (!exc_vectors_init()) {
        printf("nested: device vectors misplaced\n");
        return 100;
    }
    /* How many priority bits are implemented, found as FreeRTOS's xPortStartScheduler does:
     * write 0xFF to IRQ0's priority byte (word access on ARMv6-M) and count the bits that stick. */
    exc_set_irq_priority(0, 0xFF);
    uint32_t stuck = NVIC_IPR(0) & 0xFFu, bits = 0;
    while (stuck & 0x80u) {
        bits++;
        stuck = (stuck << 1) & 0xFFu;
    }
    printf("nested priority bits: %u\n", (unsigned)bits);
    set_priorities();

    chain_from_irq0 = 1;
    pend(0);
    chain_from_irq0 = 0;
    check("preempt", "0< 1< 2< S< S> 2> 1> 3< 3> 0> ");
#if EXC_V6M
    printf("nested in IRQ2: vectactive %u %s\n", (unsigned)seen_vectactive,
           seen_vectactive == 18u ? "ok" : "WRONG");
    wrong += seen_vectactive != 18u;
#else
    printf("nested in IRQ2: vectactive %u, active", (unsigned)seen_vectactive);
    for (unsigned n = 0; n < EXC_NUM_IRQ; n++)
        if (seen_active & (1u << n))
            printf(" %u", n);
    int in2_ok = seen_vectactive == 18u && seen_active == 0x7u;
    wrong += !in2_ok;
    printf(" %s\n", in2_ok ? "ok" : "WRONG");
#endif

    /* PRIMASK masks IRQs, not NMI; both IRQs wait, then go by priority, tail-chained. */
    exc_disable_irq();
    SCB_ICSR = ICSR_NMIPENDSET;
    exc_barrier();
    NVIC_ISPR0 = (1u << 0) | (1u << 2);
    exc_barrier();
    log_mark();
    exc_enable_irq();
    exc_barrier();
    check("primask", "N< N> | 2< 2> 0< 0> ");

#if EXC_V6M
    printf("nested basepri: skipped (ARMv6-M)\n");
#else
    /* BASEPRI 0x80 masks priorities 0x80..0xFF only; BASEPRI_MAX never lowers it. */
    exc_set_basepri(0x80);
    exc_barrier();
    NVIC_ISPR0 = (1u << 0) | (1u << 2);
    exc_barrier();
    __asm__ volatile("msr basepri_max, %0" ::"r"(0xC0u) : "memory");
    if (exc_get_basepri() == 0x80u)
        log_mark();
    exc_set_basepri(0);
    exc_barrier();
    check("basepri", "2< 2> | 0< 0> ");
#endif

    /* Equal priority: the lower exception number first; PendSV (0xC0) after both. */
    exc_disable_irq();
    NVIC_ISPR0 = (1u << 5) | (1u << 4);
    exc_barrier();
    exc_enable_irq();
    exc_barrier();
    check("tie", "4< 4> 5< 5> P< P> ");

#if EXC_V6M
    printf("nested prigroup: skipped (ARMv6-M)\n");
#else
    /* IRQ6 0xA0 vs IRQ7 0x80: different group priorities with PRIGROUP 0 (group = [7:1]),
     * the same group (2) with PRIGROUP 5 (group = [7:6]): no preemption then. */
    pend_in_irq6 = 1;
    pend(6);
    check("prigroup 0", "6< 7< 7> 6> ");
    SCB_AIRCR = AIRCR_VECTKEY | (5u << 8);
    exc_barrier();
    unsigned prigroup = (SCB_AIRCR >> 8) & 7u;
    pend(6);
    char name[16];
    snprintf(name, sizeof name, "prigroup %u", prigroup);
    check(name, "6< 6> 7< 7> ");
    SCB_AIRCR = AIRCR_VECTKEY;
    pend_in_irq6 = 0;
#endif

    /* The vector table copied to RAM with IRQ0 redirected, VTOR pointed there (what a
     * bootloader or a RAM-vector HAL does): IRQ0 now runs the RAM table's handler. */
    extern const uint32_t mcusim_vectors[];
    static uint32_t ram_vectors[16 + EXC_NUM_IRQ] __attribute__((aligned(256)));
    uint32_t old_vtor = SCB_VTOR;
    for (unsigned i = 0; i < 16u + EXC_NUM_IRQ; i++)
        ram_vectors[i] = mcusim_vectors[i];
    ram_vectors[16] = (uint32_t)RamIRQ0_Handler;
    SCB_VTOR = (uint32_t)ram_vectors;
    exc_barrier();
    int vtor_ok = SCB_VTOR == (uint32_t)ram_vectors;
    pend(0);
    SCB_VTOR = old_vtor;
    exc_barrier();
    pend(0);                      /* and the flash table's handler again */
    check(vtor_ok ? "vtor in RAM" : "vtor in RAM (VTOR not written)", "R< R> 0< 0> ");

    printf("nested: %u wrong\n", wrong);
    return (int)wrong;
}
