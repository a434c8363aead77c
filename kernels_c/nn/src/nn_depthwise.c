/* DEPTHWISE_CONV_2D (any kernel, stride, dilation, padding, depth multiplier;
 * output-channel slices). DSP cores, depth multiplier 1: four channels at a
 * time (one word of NHWC input, one of 1HWO weights), SXTB16/SXTAB16 unpack
 * and SMLABB/SMLATT; interior 3x3 pixels unrolled, other pixels over their
 * in-bounds taps only.
 * Otherwise direct loops. */
/* -O3 measured faster than the library's -O2 for this file (bench/nn_kernels.py);
 * -O2 is faster for the convolution. */
#pragma GCC optimize("O3")

#include "nn_kernels.h"
#include "nn_dsp.h"

size_t nn_depthwise_conv2d_s8_scratch_bytes(const nn_conv_params_t *p)
{
    (void)p;
    return 0;
}

/* One output channel of one output pixel, any geometry. */
static inline int32_t dw_one(const nn_conv_params_t *p, const int8_t *input, const int8_t *filter,
                             int oy, int ox, int oc, int icl, int32_t acc)
{
    const int y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    for (int ky = 0; ky < p->k_h; ky++) {
        const int iy = y0 + ky * p->dilation_h;
        if (iy < 0 || iy >= p->in_h)
            continue;
        for (int kx = 0; kx < p->k_w; kx++) {
            const int ix = x0 + kx * p->dilation_w;
            if (ix < 0 || ix >= p->in_w)
                continue;
            acc += (input[(iy * p->in_w + ix) * p->in_stride + icl] + p->input_offset)
                   * filter[(ky * p->k_w + kx) * p->out_c + oc];
        }
    }
    return acc;
}

static void dw_portable(const nn_conv_params_t *p, const int8_t *input, const int8_t *filter,
                        const int32_t *bias, const int32_t *mult, const int32_t *shift,
                        int8_t *output)
{
    const int cb = p->c_begin, ce = p->c_end, dm = p->depth_mult, icf = cb / dm;
    for (int oy = 0; oy < p->out_h; oy++) {
        for (int ox = 0; ox < p->out_w; ox++) {
            int8_t *out = output + (oy * p->out_w + ox) * p->out_stride - cb;
            for (int oc = cb; oc < ce; oc++) {
                int32_t acc = dw_one(p, input, filter, oy, ox, oc, oc / dm - icf,
                                     bias ? bias[oc] : 0);
                out[oc] = nn_finish(acc, mult[oc], shift[oc], p->output_offset,
                                    p->act_min, p->act_max);
            }
        }
    }
}

#if NN_USE_DSP

/* acc[0..3] += four channels of (x + offset) * w for one tap. */
#define DW_TAP4(a0, a1, a2, a3, xw, we, wo, off2)                    \
    do {                                                             \
        int32_t xe_, xo_;                                            \
        nn_unpack_s8x4_offset((xw), (off2), &xe_, &xo_);             \
        a0 = __smlabb(xe_, (we), a0);                                \
        a2 = __smlatt(xe_, (we), a2);                                \
        a1 = __smlabb(xo_, (wo), a1);                                \
        a3 = __smlatt(xo_, (wo), a3);                                \
    } while (0)

static const int32_t zero4[4] = {0, 0, 0, 0};

/* The helpers below are separate functions on purpose: each keeps its few
 * values in registers, where one large function made gcc spill its
 * accumulators to the stack. */

/* out[0..n) = requantised acc[0..n) of channels with mult/shift[0..n). */
static NN_HOT NN_NOINLINE void dw_store(int8_t *out, const int32_t *acc, int n, const int32_t *mult,
                                 const int32_t *shift, int32_t oo, int32_t lo, int32_t hi)
{
    for (int i = 0; i < n; i++)
        out[i] = nn_finish(acc[i], mult[i], shift[i], oo, lo, hi);
}

/* Channels [oc, oc+4) of one interior output pixel of a 3x3 window, unrolled:
 * r = input at the top-left tap, w = its weights. */
static NN_HOT NN_NOINLINE void dw3x3_4(const int8_t *r, int is, int row, const int8_t *w, int out_c,
                                const int32_t *bp, int32_t off2, int32_t *acc)
{
    int32_t a0 = bp[0], a1 = bp[1], a2 = bp[2], a3 = bp[3];
    for (int ky = 0; ky < 3; ky++) {
        int32_t we, wo;
        nn_unpack_s8x4(nn_read_u32(w), &we, &wo);
        DW_TAP4(a0, a1, a2, a3, nn_read_u32(r), we, wo, off2);
        nn_unpack_s8x4(nn_read_u32(w + out_c), &we, &wo);
        DW_TAP4(a0, a1, a2, a3, nn_read_u32(r + is), we, wo, off2);
        nn_unpack_s8x4(nn_read_u32(w + 2 * out_c), &we, &wo);
        DW_TAP4(a0, a1, a2, a3, nn_read_u32(r + 2 * is), we, wo, off2);
        r += row;
        w += 3 * out_c;
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

/* Channels [oc, oc+4) of one output pixel over n_y x n_x taps: r = input at
 * the first tap, rx/ry its steps, w = weights of the first tap, wy the step
 * of a tap row (wx = out_c). */
static NN_HOT NN_NOINLINE void dw_taps4(const int8_t *r, int rx, int ry, int n_y, int n_x,
                                 const int8_t *w, int out_c, int wy, const int32_t *bp,
                                 int32_t off2, int32_t *acc)
{
    int32_t a0 = bp[0], a1 = bp[1], a2 = bp[2], a3 = bp[3];
    for (int ky = 0; ky < n_y; ky++, r += ry, w += wy) {
        const int8_t *rr = r, *ww = w;
        for (int kx = 0; kx < n_x; kx++, rr += rx, ww += out_c) {
            int32_t we, wo;
            nn_unpack_s8x4(nn_read_u32(ww), &we, &wo);
            DW_TAP4(a0, a1, a2, a3, nn_read_u32(rr), we, wo, off2);
        }
    }
    acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3;
}

static NN_HOT void dw_dsp(const nn_conv_params_t *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, const int32_t *mult, const int32_t *shift,
                   int8_t *output)
{
    const int cb = p->c_begin, ce = p->c_end, out_c = p->out_c, k_w = p->k_w;
    const int in_w = p->in_w, in_h = p->in_h, is = p->in_stride, os = p->out_stride;
    const int sw = p->stride_w, dh = p->dilation_h, dw = p->dilation_w;
    const int32_t off2 = nn_pack_offset(p->input_offset);
    const int32_t oo = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int is3x3 = p->k_h == 3 && k_w == 3 && dh == 1 && dw == 1;
    const int row = in_w * is;
    const int c4 = cb + ((ce - cb) & ~3);

    for (int oy = 0; oy < p->out_h; oy++) {
        const int y0 = oy * p->stride_h - p->pad_top;
        for (int ox = 0; ox < p->out_w;) {
            const int x0 = ox * sw - p->pad_left;
            const int8_t *in0 = input + (y0 * in_w + x0) * is - cb;
            int8_t *out = output + (oy * p->out_w + ox) * os - cb;
            int32_t acc[4];
            const int interior = is3x3 && y0 >= 0 && y0 + 3 <= in_h && x0 >= 0 && x0 + 3 <= in_w;
            if (interior) {
                for (int oc = cb; oc < c4; oc += 4) {
                    dw3x3_4(in0 + oc, is, row, filter + oc, out_c, bias ? bias + oc : zero4, off2,
                            acc);
                    dw_store(out + oc, acc, 4, mult + oc, shift + oc, oo, lo, hi);
                }
            } else {
                /* Any geometry: only the taps inside the input. */
                int ky0 = 0, ky1 = p->k_h, kx0 = 0, kx1 = k_w;
                while (ky0 < ky1 && y0 + ky0 * dh < 0) ky0++;
                while (ky1 > ky0 && y0 + (ky1 - 1) * dh >= in_h) ky1--;
                while (kx0 < kx1 && x0 + kx0 * dw < 0) kx0++;
                while (kx1 > kx0 && x0 + (kx1 - 1) * dw >= in_w) kx1--;
                const int8_t *r0 = in0 + (ky0 * dh * in_w + kx0 * dw) * is;
                const int8_t *w0 = filter + (ky0 * k_w + kx0) * out_c;
                for (int oc = cb; oc < c4; oc += 4) {
                    dw_taps4(r0 + oc, dw * is, dh * row, ky1 - ky0, kx1 - kx0, w0 + oc, out_c,
                             k_w * out_c, bias ? bias + oc : zero4, off2, acc);
                    dw_store(out + oc, acc, 4, mult + oc, shift + oc, oo, lo, hi);
                }
            }
            for (int oc = c4; oc < ce; oc++)
                out[oc] = nn_finish(dw_one(p, input, filter, oy, ox, oc, oc - cb,
                                           bias ? bias[oc] : 0),
                                    mult[oc], shift[oc], oo, lo, hi);
            ox++;
        }
    }
}
#endif

void nn_depthwise_conv2d_s8(const nn_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift,
                            int8_t *output, int16_t *scratch)
{
    (void)scratch;
#if NN_USE_DSP
    if (p->depth_mult == 1) {
        dw_dsp(p, input, filter, bias, mult, shift, output);
        return;
    }
#endif
    dw_portable(p, input, filter, bias, mult, shift, output);
}
