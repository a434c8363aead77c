/* 2x2 dot-product tile of the nn kernel library (DSP cores: M4, M7, M33).
 *
 *   void nn_dot2x2_s8s16(const int16_t *cols, const int8_t *w0, int32_t w_stride,
 *                        int32_t groups, int32_t *s);
 *
 * cols: two im2col columns A, B interleaved per group of four elements as
 *       [A k0 k2][A k1 k3][B k0 k2][B k1 k3] (int16 values x + input_offset);
 * w0:   int8 weights of the first output channel (k0..k3 per word), the
 *       second channel's at w0 + w_stride;
 * s:    s[0] += w0.A, s[1] += w0.B, s[2] += w1.A, s[3] += w1.B over 4*groups.
 *
 * Unrolled by two groups. Per group: one LDM of the four column words, two weight words each
 * unpacked by SXTB16 / SXTB16 ROR 8 into the matching halfword pairs, eight
 * SMLADs = 16 MACs. Written in assembly because gcc spilled accumulators in
 * the C version (13 registers are live in the loop). */
#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(NN_PORTABLE)
    .syntax unified
    .thumb
#ifdef NN_CODE_IN_RAM
    .section .data.nn_ramfunc.nn_dot2x2_s8s16, "awx", %progbits
#else
    .section .text.nn_dot2x2_s8s16, "ax", %progbits
#endif
    .align 2
    .global nn_dot2x2_s8s16
    .type nn_dot2x2_s8s16, %function
    .thumb_func
    @ One group (16 MACs); the loads are placed so no instruction waits for one.
    .macro GROUP
    ldr     r12, [r1, r2]           @ second channel's weights
    ldmia   r0!, {r8-r11}           @ A even, A odd, B even, B odd
    sxtb16  lr, r12, ror #8
    sxtb16  r12, r12
    smlad   r6, r12, r8, r6
    smlad   r7, r12, r10, r7
    ldr     r12, [r1], #4           @ first channel's weights
    smlad   r6, lr, r9, r6
    smlad   r7, lr, r11, r7
    sxtb16  lr, r12, ror #8
    sxtb16  r12, r12
    smlad   r4, r12, r8, r4
    smlad   r5, r12, r10, r5
    smlad   r4, lr, r9, r4
    smlad   r5, lr, r11, r5
    .endm

nn_dot2x2_s8s16:
    push    {r4-r11, lr}
    ldr     r12, [sp, #36]          @ s
    ldm     r12, {r4-r7}
    lsrs    r3, r3, #1              @ pairs of groups; carry = one more group
    bcc     2f
    GROUP
2:  cbz     r3, 4f
    .p2align 2                      @ loop entry word-aligned (see nn_add_rows_s8)
1:  GROUP
    GROUP
    subs    r3, r3, #1
    bne     1b
4:  ldr     r12, [sp, #36]
    stm     r12, {r4-r7}
    pop     {r4-r11, pc}
    .size nn_dot2x2_s8s16, . - nn_dot2x2_s8s16
/*   void nn_dot2x2xN_s8s16(const int16_t **pos, const int8_t *w0, int32_t w_stride,
 *                          int32_t groups, int32_t *s, int32_t n_pairs);
 *
 * n_pairs column pairs (up to 2 * n_pairs pixels) against the same two weight
 * rows: s[4i..4i+3] for pair i, whose position pos[i] is advanced. The rows are
 * walked in chunks of 24 groups (96 bytes each), one pass per pair, so that
 * the chunk's 192 weight bytes stay in a small flash data cache (STM32 ART:
 * 256 bytes) from the first pass to the last: the flash is read once per
 * 2 * n_pairs pixels. */
#ifdef NN_CODE_IN_RAM
    .section .data.nn_ramfunc.nn_dot2x2xN_s8s16, "awx", %progbits
#else
    .section .text.nn_dot2x2xN_s8s16, "ax", %progbits
#endif
    .align 2
    .global nn_dot2x2xN_s8s16
    .type nn_dot2x2xN_s8s16, %function
    .thumb_func
nn_dot2x2xN_s8s16:
    push    {r4-r11, lr}
    sub     sp, sp, #24
    @ locals: [sp] groups left, [sp+4] chunk groups, [sp+8] weights at the chunk
    @ start, [sp+12] pair index, [sp+16] pos; s at [sp+60], n_pairs at [sp+64]
    str     r3, [sp, #0]
    str     r0, [sp, #16]
5:  ldr     r3, [sp, #0]
    cmp     r3, #0
    beq.w   7f
    cmp     r3, #24
    it      hi
    movhi   r3, #24
    ldr     r12, [sp, #0]
    sub     r12, r12, r3
    str     r12, [sp, #0]
    str     r3, [sp, #4]
    str     r1, [sp, #8]
    movs    r12, #0
    str     r12, [sp, #12]
6:  ldr     r12, [sp, #12]
    ldr     r0, [sp, #16]
    ldr     r0, [r0, r12, lsl #2]   @ pos[i]
    ldr     r1, [sp, #8]
    ldr     r3, [sp, #4]
    ldr     lr, [sp, #60]
    add     r12, lr, r12, lsl #4    @ s + 4i
    ldm     r12, {r4-r7}
    lsrs    r3, r3, #1
    bcc     1f
    GROUP
1:  cmp     r3, #0
    beq     3f
    .p2align 2                      @ loop entry word-aligned (see nn_add_rows_s8)
2:  GROUP
    GROUP
    subs    r3, r3, #1
    bne     2b
3:  ldr     r12, [sp, #12]
    ldr     lr, [sp, #60]
    add     lr, lr, r12, lsl #4
    stm     lr, {r4-r7}
    ldr     lr, [sp, #16]
    str     r0, [lr, r12, lsl #2]   @ pos[i] advanced
    add     r12, r12, #1
    str     r12, [sp, #12]
    ldr     lr, [sp, #64]
    cmp     r12, lr
    blt     6b
    b.w     5b
7:  add     sp, sp, #24
    pop     {r4-r11, pc}
    .size nn_dot2x2xN_s8s16, . - nn_dot2x2xN_s8s16
/*   void nn_add_rows_s8(const int8_t *a, const int8_t *b, int8_t *out, int32_t n,
 *                       const nn_add_loop_t *k);
 *
 * The tabulated ADD's inner loop (nn_elementwise.c): out[i] = clamp(
 * RDBPOT(SMMULR(t[a[i]] + t[256 + b[i]], mult), right) + oo) with
 * t = k->table + 128 holding both inputs' rescaled values (pre-doubled, so
 * SMMULR gives SRDHM). k: {table, mult, half, rmask, right, oo, lo, hi}. */
#ifdef NN_CODE_IN_RAM
    .section .data.nn_ramfunc.nn_add_rows_s8, "awx", %progbits
#else
    .section .text.nn_add_rows_s8, "ax", %progbits
#endif
    .align 2
    .global nn_add_rows_s8
    .type nn_add_rows_s8, %function
    .thumb_func
nn_add_rows_s8:
    push    {r4-r11, lr}
    ldr     r12, [sp, #36]          @ k
    cmp     r3, #0
    beq     9f
    add     r3, r2, r3              @ end of out
    ldm     r12, {r4-r11}           @ table, mult, half, rmask, right, oo, lo, hi
    add     r4, r4, #512            @ &t[128] (int32 entries)
    .p2align 2                      @ the loop's 32-bit loads word-aligned: a 32-bit load at a
                                    @ halfword address does not pipeline (isa/cycles/README.md)
8:  ldrsb   r12, [r0], #1
    ldrsb   lr, [r1], #1
    ldr     r12, [r4, r12, lsl #2]
    add     lr, lr, #256
    ldr     lr, [r4, lr, lsl #2]
    add     r12, r12, lr
    smmulr  r12, r12, r5
    and     lr, r7, r12, asr #31
    add     r12, r12, r6
    add     r12, r12, lr
    asr     r12, r12, r8
    add     r12, r12, r9
    cmp     r12, r10
    it      lt
    movlt   r12, r10
    cmp     r12, r11
    it      gt
    movgt   r12, r11
    strb    r12, [r2], #1
    cmp     r2, r3
    bne     8b
9:  pop     {r4-r11, pc}
    .size nn_add_rows_s8, . - nn_add_rows_s8
#endif
