/* Internal: im2col column pairs and the 2x2 tile (two pixels x two output
 * channels) shared by CONV_2D, its 1x1 path and the pointwise accumulation
 * (DSP cores only).
 *
 * A pair buffer holds two columns A, B of K int16 values x + input_offset.
 * Group g of four elements (g < K/4) sits at halfwords 8g..8g+7: A's
 * k0 k2 k1 k3, then B's (the "reordered" order, so that SXTB16 of a weight
 * word k0..k3 pairs with the first halfword pair and SXTB16 ROR 8 with the
 * second: two SMLADs per four MACs, no PKH). The K % 4 tail follows in
 * natural order: A's tail at 8G, B's right after it. Total 2K halfwords. */
#ifndef NN_MATMUL_H
#define NN_MATMUL_H

#include "nn_dsp.h"
#include "nn_kernels.h"

#if NN_USE_DSP

void nn_dot2x2_s8s16(const int16_t *cols, const int8_t *w0, int32_t w_stride, int32_t groups,
                     int32_t *s);
void nn_dot2x2xN_s8s16(const int16_t **pos, const int8_t *w0, int32_t w_stride, int32_t groups,
                       int32_t *s, int32_t n_pairs);


/* Halfword index of element k of column c (0 = A, 1 = B). */
static inline int nn_pair_pos(int c, int k, int K)
{
    static const uint8_t perm[4] = {0, 2, 1, 3};
    const int k4 = K & ~3;
    return k < k4 ? 8 * (k >> 2) + 4 * c + perm[k & 3] : 2 * k4 + c * (K - k4) + (k - k4);
}

/* Elements [k, k+n) of column c from n int8 values (+offset): whole groups
 * with SXTAB16 when k is a multiple of four, the rest one by one. */
static inline void nn_pair_fill(int16_t *pair, int c, int k, int n, int K,
                                const int8_t *src, int32_t offset, int32_t off2)
{
    int i = 0;
    if ((k & 3) == 0) {
        const int k4 = K & ~3;
        const int fast = (k + n <= k4 ? n : k4 - k) & ~3;
        int16_t *dst = pair + 2 * k + 4 * c;
        for (; i < fast; i += 4, dst += 8) {
            int32_t even, odd;
            nn_unpack_s8x4_offset(nn_read_u32(src + i), off2, &even, &odd);
            nn_write_u32(dst, (uint32_t)even);
            nn_write_u32(dst + 2, (uint32_t)odd);
        }
    }
    for (; i < n; i++)
        pair[nn_pair_pos(c, k + i, K)] = (int16_t)(src[i] + offset);
}

static inline void nn_pair_zero(int16_t *pair, int c, int k, int n, int K)
{
    if (((k | n) & 3) == 0 && k + n <= (K & ~3)) {
        int16_t *dst = pair + 2 * k + 4 * c;
        for (int i = 0; i < n; i += 4, dst += 8) {
            nn_write_u32(dst, 0);
            nn_write_u32(dst + 2, 0);
        }
    } else {
        for (int i = 0; i < n; i++)
            pair[nn_pair_pos(c, k + i, K)] = 0;
    }
}

/* s[0] += w0.A, s[1] += w0.B, s[2] += w1.A, s[3] += w1.B (w1 = w0 + w_stride). */
static inline void nn_dot_2x2(const int16_t *pair, const int8_t *w0, int w_stride, int K,
                              int32_t *s)
{
    const int k4 = K & ~3;
    nn_dot2x2_s8s16(pair, w0, w_stride, K >> 2, s);
    const int16_t *ta = pair + 2 * k4, *tb = ta + (K - k4);
    const int8_t *v0 = w0 + k4, *v1 = v0 + w_stride;
    for (int k = 0; k < K - k4; k++) {
        s[0] += v0[k] * ta[k];
        s[1] += v0[k] * tb[k];
        s[2] += v1[k] * ta[k];
        s[3] += v1[k] * tb[k];
    }
}

#endif /* NN_USE_DSP */
#endif /* NN_MATMUL_H */
