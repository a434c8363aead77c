/*
 * fpu_ctx - FP context across exceptions on an FPU core (M4F, M7F): the extended frame and
 * lazy stacking as FPCCR's reset state (ASPEN = LSPEN = 1) asks (ARMv7-M ARM B1.5.7, B3.2.22).
 *
 * 1. No FP context (CONTROL.FPCA = 0): IRQ0 enters with EXC_RETURN 0xFFFFFFF9, LSPACT 0.
 * 2. FP context: thread code loads s0-s15 and FPSCR with known values and pends IRQ0, whose
 *    handler uses FP: entry with EXC_RETURN 0xFFFFFFE9, FPCCR.LSPACT 1 before the handler's
 *    first FP instruction, CONTROL.FPCA 0 in the handler, FPCAR = frame + 0x20; after the
 *    return all 16 registers and FPSCR hold the thread's values again.
 * 3. A float series runs while SysTick interrupts it (the handler changes FPSCR's rounding
 *    mode and uses s0-s15 and s16-s31); the result equals the same series computed with
 *    interrupts masked, bit for bit.
 *
 * Prints (M4F and M7F alike):
 *     fpu_ctx: no FP context: exc_return fffffff9, lspact 0
 *     fpu_ctx: FP context: exc_return ffffffe9, lspact 1, fpca 0, fpcar ok, 17 of 17 kept
 *     fpu_ctx: series under SysTick equals the masked run: yes
 * Exit 0; 1 if anything differs.
 */
#include <stdio.h>
#include <string.h>

#include "exc.h"

#if !defined(__ARM_FP)
#error "fpu_ctx needs an FPU (hard-float build)"
#endif

static volatile uint32_t h_exc_return, h_fpccr, h_control, h_sp, h_fpcar;
static volatile float h_acc;
static volatile uint32_t ticks;

void irq0_c(uint32_t exc_return, uint32_t fpccr, uint32_t control, uint32_t sp);
uint32_t fp_frame_check(uint32_t base);

/* IRQ0: what the core left at entry, read before any FP instruction can run, then C. */
__asm__(
    "    .section .text.IRQ0_Handler,\"ax\",%progbits\n"
    "    .global IRQ0_Handler\n"
    "    .type IRQ0_Handler, %function\n"
    "    .thumb_func\n"
    "IRQ0_Handler:\n"
    "    mov r0, lr\n"
    "    ldr r1, =0xE000EF34\n"        /* FPCCR */
    "    ldr r1, [r1]\n"
    "    mrs r2, control\n"
    "    mov r3, sp\n"
    "    ldr r12, =irq0_c\n"
    "    bx r12\n"                    /* irq0_c's return is the exception return */
    "    .ltorg\n"
    "    .size IRQ0_Handler, . - IRQ0_Handler\n");

void irq0_c(uint32_t exc_return, uint32_t fpccr, uint32_t control, uint32_t sp)
{
    h_exc_return = exc_return;
    h_fpccr = fpccr;
    h_control = control;
    h_sp = sp;
    h_fpcar = FPU_FPCAR;
    h_acc = h_acc * 0.5f + 3.25f;    /* FP in the handler: triggers lazy stacking */
}

/* s0-s15 = base + 0..15 (as bit patterns), FPSCR = round towards zero; pend IRQ0; count
 * the registers (and FPSCR) that still hold those values afterwards. */
__asm__(
    "    .section .text.fp_frame_check,\"ax\",%progbits\n"
    "    .global fp_frame_check\n"
    "    .type fp_frame_check, %function\n"
    "    .thumb_func\n"
    "fp_frame_check:\n"
    "    push {r4, lr}\n"
    "    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "    add r1, r0, #\\k\n"
    "    vmov s\\k, r1\n"
    "    .endr\n"
    "    mov r1, #0x00C00000\n"       /* RMode = 0b11, round towards zero */
    "    vmsr fpscr, r1\n"
    "    ldr r2, =0xE000EF00\n"       /* NVIC_STIR */
    "    movs r1, #0\n"
    "    str r1, [r2]\n"              /* IRQ0 */
    "    dsb\n"
    "    isb\n"
    "    movs r4, #0\n"
    "    .irp k, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15\n"
    "    vmov r1, s\\k\n"
    "    sub r1, r1, r0\n"
    "    cmp r1, #\\k\n"
    "    it eq\n"
    "    addeq r4, r4, #1\n"
    "    .endr\n"
    "    vmrs r1, fpscr\n"
    "    bic r1, r1, #0xF0000000\n"   /* the flags are not part of the check */
    "    cmp r1, #0x00C00000\n"
    "    it eq\n"
    "    addeq r4, r4, #1\n"
    "    movs r1, #0\n"
    "    vmsr fpscr, r1\n"
    "    mov r0, r4\n"
    "    pop {r4, pc}\n"
    "    .ltorg\n"
    "    .size fp_frame_check, . - fp_frame_check\n");

/* The tick's FP work: its own rounding mode and enough live values to need s16-s31. */
void SysTick_Handler(void)
{
    uint32_t fpscr = 0x00400000u;      /* RMode = 0b01, towards +infinity */
    __asm__ volatile("vmsr fpscr, %0" ::"r"(fpscr));
    volatile float v[12];
    for (int i = 0; i < 12; i++)
        v[i] = (float)i * 1.37f;
    float a = v[0], b = v[1], c = v[2], d = v[3], e = v[4], f = v[5];
    float g = v[6], h = v[7], k = v[8], l = v[9], m = v[10], n = v[11];
    for (int i = 0; i < 3; i++) {
        a = a * b + c; b = b * c + d; c = c * d + e; d = d * e + f; e = e * f + g;
        f = f * g + h; g = g * h + k; h = h * k + l; k = k * l + m; l = l * m + n;
        m = m * n + a; n = n * a + b;
    }
    h_acc = a + b + c + d + e + f + g + h + k + l + m + n;
    ticks = ticks + 1u;
}

static float series(uint32_t n)
{
    float x = 1.0f, y = 0.25f;
    for (uint32_t i = 0; i < n; i++) {
        x = x * 1.0001f + y;
        y = y * 0.999f - x * 1e-4f;
    }
    return x + y;
}

int main(void)
{
    if (!exc_vectors_init()) {
        printf("fpu_ctx: device vectors misplaced\n");
        return 3;
    }
    FPU_FPCCR |= FPCCR_ASPEN | FPCCR_LSPEN;
    exc_set_irq_priority(0, 0x80);
    NVIC_ISER0 = 1u;
    int bad = 0;

    /* 1. No FP context: clear FPCA (as an RTOS does before its first task), then pend. */
    __asm__ volatile("msr control, %0\n\tisb" ::"r"(0u) : "memory");
    NVIC_STIR = 0;
    exc_barrier();
    uint32_t lspact1 = h_fpccr & FPCCR_LSPACT;
    bad |= h_exc_return != 0xFFFFFFF9u || lspact1 != 0u;
    printf("fpu_ctx: no FP context: exc_return %08lx, lspact %lu\n",
           (unsigned long)h_exc_return, (unsigned long)lspact1);

    /* 2. FP context live in thread mode. */
    uint32_t kept = fp_frame_check(0x40A00000u);
    uint32_t lspact2 = h_fpccr & FPCCR_LSPACT;
    uint32_t fpca = (h_control >> 2) & 1u;
    int fpcar_ok = h_fpcar == h_sp + 0x20u;
    bad |= h_exc_return != 0xFFFFFFE9u || lspact2 != 1u || fpca != 0u || !fpcar_ok ||
           kept != 17u;
    printf("fpu_ctx: FP context: exc_return %08lx, lspact %lu, fpca %lu, fpcar %s, "
           "%lu of 17 kept\n", (unsigned long)h_exc_return, (unsigned long)lspact2,
           (unsigned long)fpca, fpcar_ok ? "ok" : "WRONG", (unsigned long)kept);

    /* 3. The series under SysTick, then masked, same length. */
    exc_systick_config(1500u);
    const uint32_t n = 1000u;          /* about 10 ticks long under mcusim */
    uint32_t before, idle = 0;
    float interrupted;
    (void)SYST_CSR;                    /* clears COUNTFLAG */
    do {                               /* until a run was interrupted, after 8 ticks */
        before = ticks;
        interrupted = series(n);
        /* The counter wrapped (COUNTFLAG) but no handler ran: give up after 20 such runs in
         * a row (one can be a wrap at the very end, its interrupt not yet taken). */
        if (ticks != before)
            idle = 0;
        else if (SYST_CSR & SYST_CSR_COUNTFLAG)
            idle++;
    } while ((ticks == before || ticks < 8u) && idle < 20u);
    SYST_CSR = 0;
    if (ticks == before) {
        printf("fpu_ctx: no tick came (%lu)\n", (unsigned long)ticks);
        return 1;
    }
    exc_disable_irq();
    float masked = series(n);
    exc_enable_irq();
    int same = memcmp(&interrupted, &masked, sizeof masked) == 0;
    bad |= !same;
    printf("fpu_ctx: series under SysTick equals the masked run: %s\n", same ? "yes" : "NO");
    return bad;
}
