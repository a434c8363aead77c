/* DEPTHWISE_CONV_2D (any kernel, stride, dilation, padding, depth multiplier;
 * output-channel slices). DSP cores, depth multiplier 1: four channels at a
 * time (one word of NHWC input, one of 1HWO weights), SXTB16/SXTAB16 unpack
 * and SMLABB/SMLATT, two output pixels per weight load, with an unrolled
 * bounds-free 3x3 for interior pixels. Otherwise direct loops. */
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
#define DW_TAP4(acc, xw, ww, off2)                                   \
    do {                                                             \
        int32_t xe_, xo_, we_, wo_;                                  \
        nn_unpack_s8x4_offset((xw), (off2), &xe_, &xo_);             \
        nn_unpack_s8x4((ww), &we_, &wo_);                            \
        acc[0] = __smlabb(xe_, we_, acc[0]);                         \
        acc[2] = __smlatt(xe_, we_, acc[2]);                         \
        acc[1] = __smlabb(xo_, wo_, acc[1]);                         \
        acc[3] = __smlatt(xo_, wo_, acc[3]);                         \
    } while (0)

static void dw_dsp(const nn_conv_params_t *p, const int8_t *input, const int8_t *filter,
                   const int32_t *bias, const int32_t *mult, const int32_t *shift,
                   int8_t *output)
{
    const int cb = p->c_begin, ce = p->c_end, out_c = p->out_c;
    const int in_w = p->in_w, in_h = p->in_h, is = p->in_stride, os = p->out_stride;
    const int32_t off2 = nn_pack_offset(p->input_offset);
    const int32_t oo = p->output_offset, lo = p->act_min, hi = p->act_max;
    const int is3x3 = p->k_h == 3 && p->k_w == 3 && p->dilation_h == 1 && p->dilation_w == 1;

    for (int oy = 0; oy < p->out_h; oy++) {
        const int y0 = oy * p->stride_h - p->pad_top;
        for (int ox = 0; ox < p->out_w; ox++) {
            const int x0 = ox * p->stride_w - p->pad_left;
            const int interior = is3x3 && y0 >= 0 && y0 + 3 <= in_h && x0 >= 0 && x0 + 3 <= in_w;
            const int8_t *in0 = input + (y0 * in_w + x0) * is - cb;
            int8_t *out = output + (oy * p->out_w + ox) * os - cb;
            int oc = cb;
            for (; oc + 4 <= ce; oc += 4) {
                int32_t acc[4];
                for (int i = 0; i < 4; i++)
                    acc[i] = bias ? bias[oc + i] : 0;
                const int8_t *w = filter + oc;
                if (interior) {
                    const int8_t *r = in0 + oc;
                    const int row = in_w * is;
                    DW_TAP4(acc, nn_read_u32(r), nn_read_u32(w), off2);
                    DW_TAP4(acc, nn_read_u32(r + is), nn_read_u32(w + out_c), off2);
                    DW_TAP4(acc, nn_read_u32(r + 2 * is), nn_read_u32(w + 2 * out_c), off2);
                    r += row;
                    w += 3 * out_c;
                    DW_TAP4(acc, nn_read_u32(r), nn_read_u32(w), off2);
                    DW_TAP4(acc, nn_read_u32(r + is), nn_read_u32(w + out_c), off2);
                    DW_TAP4(acc, nn_read_u32(r + 2 * is), nn_read_u32(w + 2 * out_c), off2);
                    r += row;
                    w += 3 * out_c;
                    DW_TAP4(acc, nn_read_u32(r), nn_read_u32(w), off2);
                    DW_TAP4(acc, nn_read_u32(r + is), nn_read_u32(w + out_c), off2);
                    DW_TAP4(acc, nn_read_u32(r + 2 * is), nn_read_u32(w + 2 * out_c), off2);
                } else {
                    for (int ky = 0; ky < p->k_h; ky++) {
                        const int iy = y0 + ky * p->dilation_h;
                        if (iy < 0 || iy >= in_h)
                            continue;
                        for (int kx = 0; kx < p->k_w; kx++) {
                            const int ix = x0 + kx * p->dilation_w;
                            if (ix < 0 || ix >= in_w)
                                continue;
                            DW_TAP4(acc, nn_read_u32(input + (iy * in_w + ix) * is + oc - cb),
                                    nn_read_u32(w + (ky * p->k_w + kx) * out_c), off2);
                        }
                    }
                }
                for (int i = 0; i < 4; i++)
                    out[oc + i] = nn_finish(acc[i], mult[oc + i], shift[oc + i], oo, lo, hi);
            }
            for (; oc < ce; oc++) {
                int32_t acc = dw_one(p, input, filter, oy, ox, oc, oc - cb, bias ? bias[oc] : 0);
                out[oc] = nn_finish(acc, mult[oc], shift[oc], oo, lo, hi);
            }
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
