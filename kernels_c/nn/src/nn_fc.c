/* FULLY_CONNECTED, the pointwise / FC partial-sum kernel for partial
 * execution (int32 accumulators over input-channel slices) and the final
 * requantisation of those accumulators. DSP cores: SXTAB16 unpacks the input
 * with its offset once per word and two weight rows share it (SMLAD). */
/* -O3 measured faster than the library's -O2 for this file (bench/nn_kernels.py);
 * -O2 is faster for the convolution. */
#pragma GCC optimize("O3")

#include "nn_kernels.h"
#include "nn_dsp.h"
#include "nn_matmul.h"

NN_HOT void nn_fully_connected_s8(const nn_fc_params_t *p, const int8_t *input,
                           const int8_t *weights, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift,
                           int8_t *output)
{
    const int n = p->in_features, cb = p->c_begin, ce = p->c_end;
    const int pc = p->per_channel ? 1 : 0;
    const int32_t off = p->input_offset, oo = p->output_offset;
    const int32_t lo = p->act_min, hi = p->act_max;

    for (int b = 0; b < p->batches; b++) {
        const int8_t *x = input + b * n;
        int8_t *out = output + b * p->out_stride - cb;
        int o = cb;
#if NN_USE_DSP
        const int32_t off2 = nn_pack_offset(off);
        const int n4 = n & ~3;
        for (; o + 1 < ce; o += 2) {
            const int8_t *w0 = weights + o * n, *w1 = w0 + n;
            int32_t s0 = bias ? bias[o] : 0, s1 = bias ? bias[o + 1] : 0;
            for (int k = 0; k < n4; k += 4) {
                int32_t xe, xo, we, wo, ve, vo;
                nn_unpack_s8x4_offset(nn_read_u32(x + k), off2, &xe, &xo);
                nn_unpack_s8x4(nn_read_u32(w0 + k), &we, &wo);
                nn_unpack_s8x4(nn_read_u32(w1 + k), &ve, &vo);
                s0 = __smlad(we, xe, s0);
                s0 = __smlad(wo, xo, s0);
                s1 = __smlad(ve, xe, s1);
                s1 = __smlad(vo, xo, s1);
            }
            for (int k = n4; k < n; k++) {
                s0 += (x[k] + off) * w0[k];
                s1 += (x[k] + off) * w1[k];
            }
            out[o] = nn_finish(s0, mult[o * pc], shift[o * pc], oo, lo, hi);
            out[o + 1] = nn_finish(s1, mult[(o + 1) * pc], shift[(o + 1) * pc], oo, lo, hi);
        }
#endif
        for (; o < ce; o++) {
            const int8_t *w = weights + o * n;
            int32_t acc = bias ? bias[o] : 0;
            for (int k = 0; k < n; k++)
                acc += (x[k] + off) * w[k];
            out[o] = nn_finish(acc, mult[o * pc], shift[o * pc], oo, lo, hi);
        }
    }
}

size_t nn_pointwise_acc_s8_scratch_bytes(const nn_conv_params_t *p)
{
    size_t n = (size_t)(p->ic_end - p->ic_begin);
    return 8 * ((n + 1) / 2);
}

static inline void acc_store(int32_t *a, int32_t v, int first)
{
    *a = first ? v : *a + v;
}

NN_HOT void nn_pointwise_acc_s8(const nn_conv_params_t *p, const int8_t *input,
                         const int8_t *filter, const int32_t *bias,
                         int32_t *acc, int first, int16_t *scratch)
{
    const int n = p->ic_end - p->ic_begin, in_c = p->in_c;
    const int n_pix = p->in_h * p->in_w;
    const int cb = p->c_begin, ce = p->c_end, os = p->out_stride;
    const int32_t off = p->input_offset;
    const int8_t *fbase = filter + p->ic_begin;
#if NN_USE_DSP
    const int32_t off2 = nn_pack_offset(off);
    int16_t *pair = scratch;
    for (int pix = 0; pix < n_pix; pix += 2) {
        const int two = pix + 1 < n_pix;
        nn_pair_fill(pair, 0, 0, n, n, input + pix * p->in_stride, off, off2);
        if (two)
            nn_pair_fill(pair, 1, 0, n, n, input + (pix + 1) * p->in_stride, off, off2);
        else
            nn_pair_zero(pair, 1, 0, n, n);
        int32_t *acc_a = acc + pix * os - cb, *acc_b = acc_a + os;
        for (int oc = cb; oc < ce; oc += 2) {
            const int has2 = oc + 1 < ce;
            const int32_t b0 = first && bias ? bias[oc] : 0;
            const int32_t b1 = first && bias && has2 ? bias[oc + 1] : 0;
            int32_t s[4] = {b0, b0, b1, b1};
            nn_dot_2x2(pair, fbase + oc * in_c, has2 ? in_c : 0, n, s);
            acc_store(&acc_a[oc], s[0], first);
            if (two)
                acc_store(&acc_b[oc], s[1], first);
            if (has2) {
                acc_store(&acc_a[oc + 1], s[2], first);
                if (two)
                    acc_store(&acc_b[oc + 1], s[3], first);
            }
        }
    }
#else
    (void)scratch;
    for (int pix = 0; pix < n_pix; pix++) {
        const int8_t *x = input + pix * p->in_stride;
        int32_t *a = acc + pix * os - cb;
        for (int oc = cb; oc < ce; oc++) {
            const int8_t *w = fbase + oc * in_c;
            int32_t s = first && bias ? bias[oc] : 0;
            for (int k = 0; k < n; k++)
                s += (x[k] + off) * w[k];
            acc_store(&a[oc], s, first);
        }
    }
#endif
}

NN_HOT void nn_requantize_acc_s8(const nn_conv_params_t *p, const int32_t *acc,
                          int32_t acc_stride, const int32_t *mult,
                          const int32_t *shift, int8_t *output)
{
    const int n_pix = p->out_h * p->out_w, cb = p->c_begin, ce = p->c_end;
    for (int pix = 0; pix < n_pix; pix++) {
        const int32_t *a = acc + pix * acc_stride - cb;
        int8_t *out = output + pix * p->out_stride - cb;
        for (int oc = cb; oc < ce; oc++)
            out[oc] = nn_finish(a[oc], mult[oc], shift[oc], p->output_offset,
                                p->act_min, p->act_max);
    }
}
