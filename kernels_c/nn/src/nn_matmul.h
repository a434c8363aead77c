/* Internal: the 2x2 int8 x int16 dot-product tile shared by CONV_2D, the 1x1
 * path and the pointwise accumulation (DSP cores only).
 *
 * Columns (im2col) are int16 values x + input_offset stored in "reordered"
 * groups of four: k0 k2 k1 k3 (then the K % 4 tail in natural order), so that
 * one SXTB16 of a weight word (k0..k3) pairs with the first halfword pair and
 * SXTB16 ROR 8 with the second: two SMLADs per four MACs and no PKH. */
#ifndef NN_MATMUL_H
#define NN_MATMUL_H

#include "nn_dsp.h"
#include "nn_kernels.h"

#if NN_USE_DSP

/* Position of element k of a K-element column in the reordered layout. */
static inline int nn_col_pos(int k, int k4)
{
    static const uint8_t perm[4] = {0, 2, 1, 3};
    return k < k4 ? ((k & ~3) | perm[k & 3]) : k;
}

/* n int8 values (+offset) into int16 column slots [k, k+n) of a column of K
 * elements (k4 = K & ~3). Fast when k and n are multiples of four. */
static inline void nn_col_fill(int16_t *col, int k, int n, int k4,
                               const int8_t *src, int32_t offset, int32_t off2)
{
    if (((k | n) & 3) == 0 && k + n <= k4) {
        int16_t *dst = col + k;
        for (int i = 0; i < n; i += 4) {
            int32_t even, odd;
            nn_unpack_s8x4_offset(nn_read_u32(src + i), off2, &even, &odd);
            nn_write_u32(dst + i, (uint32_t)even);
            nn_write_u32(dst + i + 2, (uint32_t)odd);
        }
    } else {
        for (int i = 0; i < n; i++)
            col[nn_col_pos(k + i, k4)] = (int16_t)(src[i] + offset);
    }
}

static inline void nn_col_zero(int16_t *col, int k, int n, int k4)
{
    if (((k | n) & 3) == 0 && k + n <= k4) {
        memset(col + k, 0, (size_t)n * 2);
    } else {
        for (int i = 0; i < n; i++)
            col[nn_col_pos(k + i, k4)] = 0;
    }
}

/* s[0] += w0.a, s[1] += w0.b, s[2] += w1.a, s[3] += w1.b over K elements. */
static inline void nn_dot_2x2(const int16_t *a, const int16_t *b,
                              const int8_t *w0, const int8_t *w1, int K, int32_t *s)
{
    int32_t s00 = s[0], s01 = s[1], s10 = s[2], s11 = s[3];
    const int16_t *a_end = a + (K & ~3);
    while (a < a_end) {
        int32_t we, wo, a0, b0, a1, b1;
        nn_unpack_s8x4(nn_read_u32(w0), &we, &wo);
        w0 += 4;
        a0 = (int32_t)nn_read_u32(a);
        b0 = (int32_t)nn_read_u32(b);
        a1 = (int32_t)nn_read_u32(a + 2);
        b1 = (int32_t)nn_read_u32(b + 2);
        a += 4;
        b += 4;
        s00 = __smlad(we, a0, s00);
        s01 = __smlad(we, b0, s01);
        s00 = __smlad(wo, a1, s00);
        s01 = __smlad(wo, b1, s01);
        nn_unpack_s8x4(nn_read_u32(w1), &we, &wo);
        w1 += 4;
        s10 = __smlad(we, a0, s10);
        s11 = __smlad(we, b0, s11);
        s10 = __smlad(wo, a1, s10);
        s11 = __smlad(wo, b1, s11);
    }
    for (int k = 0; k < (K & 3); k++) {
        s00 += w0[k] * a[k];
        s01 += w0[k] * b[k];
        s10 += w1[k] * a[k];
        s11 += w1[k] * b[k];
    }
    s[0] = s00; s[1] = s01; s[2] = s10; s[3] = s11;
}

/* s[0] += w0.a, s[1] += w1.a (one column, two channels). */
static inline void nn_dot_1x2(const int16_t *a, const int8_t *w0, const int8_t *w1,
                              int K, int32_t *s)
{
    int32_t s0 = s[0], s1 = s[1];
    const int16_t *a_end = a + (K & ~3);
    while (a < a_end) {
        int32_t we, wo, ve, vo;
        int32_t a0 = (int32_t)nn_read_u32(a), a1 = (int32_t)nn_read_u32(a + 2);
        a += 4;
        nn_unpack_s8x4(nn_read_u32(w0), &we, &wo);
        w0 += 4;
        nn_unpack_s8x4(nn_read_u32(w1), &ve, &vo);
        w1 += 4;
        s0 = __smlad(we, a0, s0);
        s0 = __smlad(wo, a1, s0);
        s1 = __smlad(ve, a0, s1);
        s1 = __smlad(vo, a1, s1);
    }
    for (int k = 0; k < (K & 3); k++) {
        s0 += w0[k] * a[k];
        s1 += w1[k] * a[k];
    }
    s[0] = s0; s[1] = s1;
}

/* s[0] += w0.a, s[1] += w0.b (two columns, one channel). */
static inline void nn_dot_2x1(const int16_t *a, const int16_t *b, const int8_t *w0,
                              int K, int32_t *s)
{
    int32_t s0 = s[0], s1 = s[1];
    const int16_t *a_end = a + (K & ~3);
    while (a < a_end) {
        int32_t we, wo;
        nn_unpack_s8x4(nn_read_u32(w0), &we, &wo);
        w0 += 4;
        s0 = __smlad(we, (int32_t)nn_read_u32(a), s0);
        s0 = __smlad(wo, (int32_t)nn_read_u32(a + 2), s0);
        s1 = __smlad(we, (int32_t)nn_read_u32(b), s1);
        s1 = __smlad(wo, (int32_t)nn_read_u32(b + 2), s1);
        a += 4;
        b += 4;
    }
    for (int k = 0; k < (K & 3); k++) {
        s0 += w0[k] * a[k];
        s1 += w0[k] * b[k];
    }
    s[0] = s0; s[1] = s1;
}

static inline int32_t nn_dot_1x1(const int16_t *a, const int8_t *w0, int K, int32_t s)
{
    const int16_t *a_end = a + (K & ~3);
    while (a < a_end) {
        int32_t we, wo;
        nn_unpack_s8x4(nn_read_u32(w0), &we, &wo);
        w0 += 4;
        s = __smlad(we, (int32_t)nn_read_u32(a), s);
        s = __smlad(wo, (int32_t)nn_read_u32(a + 2), s);
        a += 4;
    }
    for (int k = 0; k < (K & 3); k++)
        s += w0[k] * a[k];
    return s;
}

/* Column stride (int16 elements) for K: keeps every column word-aligned. */
static inline int nn_col_stride(int K)
{
    return (K + 1) & ~1;
}

#endif /* NN_USE_DSP */
#endif /* NN_MATMUL_H */
