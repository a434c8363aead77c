/* AVERAGE_POOL_2D and MAX_POOL_2D, TFLite int8 reference semantics: the
 * window is clipped to the input (padding is excluded from the count), the
 * average rounds half away from zero, then the activation clamp. */
#include "nn_kernels.h"
#include "nn_dsp.h"

static inline void window(int o, int stride, int pad, int k, int n, int *start, int *end)
{
    const int origin = o * stride - pad;
    *start = origin < 0 ? -origin : 0;
    *end = n - origin < k ? n - origin : k;
    *start += origin;
    *end += origin;
}

NN_HOT void nn_avg_pool_s8(const nn_conv_params_t *p, const int8_t *input, int8_t *output)
{
    const int cb = p->c_begin, nc = p->c_end - cb;
    for (int oy = 0; oy < p->out_h; oy++) {
        int y0, y1;
        window(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &y0, &y1);
        for (int ox = 0; ox < p->out_w; ox++) {
            int x0, x1;
            window(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &x0, &x1);
            const int count = (y1 - y0) * (x1 - x0);
            int8_t *out = output + (oy * p->out_w + ox) * p->out_stride;
            for (int c = 0; c < nc; c++) {
                int32_t acc = 0;
                const int is = p->in_stride, n_x = x1 - x0;
                for (int y = y0; y < y1; y++) {
                    const int8_t *in = input + (y * p->in_w + x0) * is + c;
                    for (int x = 0; x < n_x; x++, in += is)
                        acc += *in;
                }
                if (count > 0)
                    acc = acc > 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                out[c] = (int8_t)nn_clamp(acc, p->act_min, p->act_max);
            }
        }
    }
}

NN_HOT void nn_max_pool_s8(const nn_conv_params_t *p, const int8_t *input, int8_t *output)
{
    const int cb = p->c_begin, nc = p->c_end - cb;
    for (int oy = 0; oy < p->out_h; oy++) {
        int y0, y1;
        window(oy, p->stride_h, p->pad_top, p->k_h, p->in_h, &y0, &y1);
        for (int ox = 0; ox < p->out_w; ox++) {
            int x0, x1;
            window(ox, p->stride_w, p->pad_left, p->k_w, p->in_w, &x0, &x1);
            int8_t *out = output + (oy * p->out_w + ox) * p->out_stride;
            for (int c = 0; c < nc; c++) {
                int32_t m = -128;
                for (int y = y0; y < y1; y++) {
                    const int8_t *in = input + (y * p->in_w) * p->in_stride + c;
                    for (int x = x0; x < x1; x++)
                        m = in[x * p->in_stride] > m ? in[x * p->in_stride] : m;
                }
                out[c] = (int8_t)nn_clamp(m, p->act_min, p->act_max);
            }
        }
    }
}
