/* CONV_2D (any kernel, stride, dilation, padding; output-channel slices).
 * DSP cores: im2col of two output pixels into int16 columns, then 2x2 tiles
 * (two pixels x two output channels) of SMLAD dual MACs, so every weight
 * word loaded is used for two pixels and every column word for two channels.
 * Other cores: direct loops. Both are bit-exact with TFLite's reference. */
#include "nn_kernels.h"
#include "nn_dsp.h"
#include "nn_matmul.h"

size_t nn_conv2d_s8_scratch_bytes(const nn_conv_params_t *p)
{
    size_t K = (size_t)p->k_h * (size_t)p->k_w * (size_t)p->in_c;
    return 8 * ((K + 1) / 2);
}

#if NN_USE_DSP

/* im2col column c (0 = A, 1 = B) of output pixel `pix` into the pair buffer. */
static void build_column(const nn_conv_params_t *p, const int8_t *input, int pix,
                         int16_t *pair, int c, int K)
{
    const int in_c = p->in_c, out_w = p->out_w;
    const int32_t off = p->input_offset, off2 = nn_pack_offset(off);
    const int oy = pix / out_w, ox = pix - oy * out_w;
    const int y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    int k = 0;
    for (int ky = 0; ky < p->k_h; ky++) {
        const int iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= p->in_h) {
            nn_pair_zero(pair, c, k, in_c * p->k_w, K);
            k += in_c * p->k_w;
            continue;
        }
        const int8_t *row = input + iy * p->in_w * p->in_stride;
        for (int kx = 0; kx < p->k_w; kx++) {
            const int ix = x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= p->in_w)
                nn_pair_zero(pair, c, k, in_c, K);
            else
                nn_pair_fill(pair, c, k, in_c, K, row + ix * p->in_stride, off, off2);
            k += in_c;
        }
    }
}

static NN_HOT void conv_dsp(const nn_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias, const int32_t *mult,
                            const int32_t *shift, int8_t *output, int16_t *pair)
{
    const int K = p->k_h * p->k_w * p->in_c;
    const int n_pix = p->out_h * p->out_w;
    const int cb = p->c_begin, ce = p->c_end, os = p->out_stride;
    const int32_t oo = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1
                          && p->pad_top == 0 && p->pad_left == 0
                          && p->in_h == p->out_h && p->in_w == p->out_w;
    const int32_t off = p->input_offset, off2 = nn_pack_offset(off);

    for (int pix = 0; pix < n_pix; pix += 2) {
        const int two = pix + 1 < n_pix;
        for (int c = 0; c < 2; c++) {
            if (c == 1 && !two)
                nn_pair_zero(pair, 1, 0, K, K);
            else if (pointwise)
                nn_pair_fill(pair, c, 0, K, K, input + (pix + c) * p->in_stride, off, off2);
            else
                build_column(p, input, pix + c, pair, c, K);
        }
        int8_t *out_a = output + pix * os - cb, *out_b = out_a + os;
        for (int oc = cb; oc < ce; oc += 2) {
            const int has2 = oc + 1 < ce;
            const int32_t b0 = bias ? bias[oc] : 0, b1 = bias && has2 ? bias[oc + 1] : 0;
            int32_t s[4] = {b0, b0, b1, b1};
            nn_dot_2x2(pair, filter + oc * K, has2 ? K : 0, K, s);
            out_a[oc] = nn_finish(s[0], mult[oc], shift[oc], oo, lo, hi);
            if (two)
                out_b[oc] = nn_finish(s[1], mult[oc], shift[oc], oo, lo, hi);
            if (has2) {
                out_a[oc + 1] = nn_finish(s[2], mult[oc + 1], shift[oc + 1], oo, lo, hi);
                if (two)
                    out_b[oc + 1] = nn_finish(s[3], mult[oc + 1], shift[oc + 1], oo, lo, hi);
            }
        }
    }
}

#else /* portable */

static void conv_portable(const nn_conv_params_t *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int8_t *output)
{
    const int in_c = p->in_c, k_h = p->k_h, k_w = p->k_w, K = k_h * k_w * in_c;
    const int32_t off = p->input_offset, oo = p->output_offset;
    const int cb = p->c_begin, ce = p->c_end;

    for (int oy = 0; oy < p->out_h; oy++) {
        for (int ox = 0; ox < p->out_w; ox++) {
            const int y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
            int8_t *out = output + (oy * p->out_w + ox) * p->out_stride - cb;
            for (int oc = cb; oc < ce; oc++) {
                const int8_t *f = filter + oc * K;
                int32_t acc = bias ? bias[oc] : 0;
                for (int ky = 0; ky < k_h; ky++) {
                    const int iy = y0 + ky * p->dilation_h;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (int kx = 0; kx < k_w; kx++) {
                        const int ix = x0 + kx * p->dilation_w;
                        if (ix < 0 || ix >= p->in_w)
                            continue;
                        const int8_t *in = input + (iy * p->in_w + ix) * p->in_stride;
                        const int8_t *fk = f + (ky * k_w + kx) * in_c;
                        for (int ic = 0; ic < in_c; ic++)
                            acc += (in[ic] + off) * fk[ic];
                    }
                }
                out[oc] = nn_finish(acc, mult[oc], shift[oc], oo, p->act_min, p->act_max);
            }
        }
    }
}

#endif

void nn_conv2d_s8(const nn_conv_params_t *p, const int8_t *input,
                  const int8_t *filter, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift,
                  int8_t *output, int16_t *scratch)
{
#if NN_USE_DSP
    conv_dsp(p, input, filter, bias, mult, shift, output, scratch);
#else
    (void)scratch;
    conv_portable(p, input, filter, bias, mult, shift, output);
#endif
}
