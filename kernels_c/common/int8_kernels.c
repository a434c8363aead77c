/* Plain-C int8 kernels; semantics documented in include/int8_kernels.h.
 * Loops are written straightforwardly (no intrinsics) so they are portable
 * and the host self-check (tools/) compiles the very same code. */
#include "int8_kernels.h"

static inline int8_t finish(int32_t acc, int32_t mult, int32_t shift,
                            int32_t out_offset, int32_t act_min, int32_t act_max)
{
    int32_t v = int8_requantize(acc, mult, shift) + out_offset;
    if (v < act_min)
        v = act_min;
    if (v > act_max)
        v = act_max;
    return (int8_t)v;
}

void int8_conv2d(const int8_conv_params_t *p, const int8_t *input,
                 const int8_t *filter, const int32_t *bias,
                 const int32_t *mult, const int32_t *shift, int8_t *output)
{
    const int in_w = p->in_w, in_c = p->in_c, k_h = p->k_h, k_w = p->k_w;
    const int32_t in_off = p->input_offset;

    for (int oy = 0; oy < p->out_h; oy++) {
        for (int ox = 0; ox < p->out_w; ox++) {
            const int y0 = oy * p->stride_h - p->pad_h;
            const int x0 = ox * p->stride_w - p->pad_w;
            for (int oc = 0; oc < p->out_c; oc++) {
                const int8_t *f = filter + oc * k_h * k_w * in_c;
                int32_t acc = 0;
                for (int ky = 0; ky < k_h; ky++) {
                    const int iy = y0 + ky;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (int kx = 0; kx < k_w; kx++) {
                        const int ix = x0 + kx;
                        if (ix < 0 || ix >= in_w)
                            continue;
                        const int8_t *in = input + (iy * in_w + ix) * in_c;
                        const int8_t *fk = f + (ky * k_w + kx) * in_c;
                        for (int ic = 0; ic < in_c; ic++)
                            acc += (in[ic] + in_off) * fk[ic];
                    }
                }
                acc += bias[oc];
                *output++ = finish(acc, mult[oc], shift[oc], p->output_offset,
                                   p->act_min, p->act_max);
            }
        }
    }
}

void int8_conv1x1(const int8_conv_params_t *p, const int8_t *input,
                  const int8_t *filter, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift, int8_t *output)
{
    /* Every pixel is an independent matrix-vector product: no bounds checks.
     * Fold input_offset into the bias-like term: sum((x+off)*w) =
     * sum(x*w) + off*sum(w), hoisting one add out of the inner loop. */
    const int in_c = p->in_c, n_pix = p->in_h * p->in_w;
    const int32_t in_off = p->input_offset;

    for (int px = 0; px < n_pix; px++) {
        const int8_t *in = input + px * in_c;
        for (int oc = 0; oc < p->out_c; oc++) {
            const int8_t *f = filter + oc * in_c;
            int32_t acc = 0, wsum = 0;
            for (int ic = 0; ic < in_c; ic++) {
                acc += in[ic] * f[ic];
                wsum += f[ic];
            }
            acc += in_off * wsum + bias[oc];
            *output++ = finish(acc, mult[oc], shift[oc], p->output_offset,
                               p->act_min, p->act_max);
        }
    }
}

void int8_dwconv3x3(const int8_conv_params_t *p, const int8_t *input,
                    const int8_t *filter, const int32_t *bias,
                    const int32_t *mult, const int32_t *shift, int8_t *output)
{
    const int in_w = p->in_w, c_n = p->in_c;
    const int32_t in_off = p->input_offset;

    for (int oy = 0; oy < p->out_h; oy++) {
        for (int ox = 0; ox < p->out_w; ox++) {
            const int y0 = oy * p->stride_h - p->pad_h;
            const int x0 = ox * p->stride_w - p->pad_w;
            for (int c = 0; c < c_n; c++) {
                int32_t acc = 0;
                for (int ky = 0; ky < 3; ky++) {
                    const int iy = y0 + ky;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (int kx = 0; kx < 3; kx++) {
                        const int ix = x0 + kx;
                        if (ix < 0 || ix >= in_w)
                            continue;
                        acc += (input[(iy * in_w + ix) * c_n + c] + in_off) *
                               filter[(ky * 3 + kx) * c_n + c];
                    }
                }
                acc += bias[c];
                *output++ = finish(acc, mult[c], shift[c], p->output_offset,
                                   p->act_min, p->act_max);
            }
        }
    }
}

void int8_fc(const int8_fc_params_t *p, const int8_t *input,
             const int8_t *weights, const int32_t *bias,
             const int32_t *mult, const int32_t *shift, int8_t *output)
{
    const int n_in = p->in_features;
    const int32_t in_off = p->input_offset;

    for (int o = 0; o < p->out_features; o++) {
        const int8_t *w = weights + o * n_in;
        int32_t acc = 0;
        for (int i = 0; i < n_in; i++)
            acc += (input[i] + in_off) * w[i];
        acc += bias[o];
        output[o] = finish(acc, mult[o], shift[o], p->output_offset,
                           p->act_min, p->act_max);
    }
}

/* Shared window walk for both pools; is_max selects the reduction. */
static void pool(const int8_conv_params_t *p, const int8_t *input,
                 int8_t *output, int is_max)
{
    const int in_w = p->in_w, c_n = p->in_c;

    for (int oy = 0; oy < p->out_h; oy++) {
        for (int ox = 0; ox < p->out_w; ox++) {
            const int y0 = oy * p->stride_h - p->pad_h;
            const int x0 = ox * p->stride_w - p->pad_w;
            for (int c = 0; c < c_n; c++) {
                int32_t acc = is_max ? INT8_MIN : 0, count = 0;
                for (int ky = 0; ky < p->k_h; ky++) {
                    const int iy = y0 + ky;
                    if (iy < 0 || iy >= p->in_h)
                        continue;
                    for (int kx = 0; kx < p->k_w; kx++) {
                        const int ix = x0 + kx;
                        if (ix < 0 || ix >= in_w)
                            continue;
                        const int32_t v = input[(iy * in_w + ix) * c_n + c];
                        if (is_max)
                            acc = v > acc ? v : acc;
                        else
                            acc += v;
                        count++;
                    }
                }
                if (!is_max && count > 0)   /* round half away from zero */
                    acc = acc > 0 ? (acc + count / 2) / count
                                  : (acc - count / 2) / count;
                if (acc < p->act_min)
                    acc = p->act_min;
                if (acc > p->act_max)
                    acc = p->act_max;
                *output++ = (int8_t)acc;
            }
        }
    }
}

void int8_avgpool(const int8_conv_params_t *p, const int8_t *input, int8_t *output)
{
    pool(p, input, output, 0);
}

void int8_maxpool(const int8_conv_params_t *p, const int8_t *input, int8_t *output)
{
    pool(p, input, output, 1);
}
