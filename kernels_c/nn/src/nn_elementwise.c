/* ADD, PAD, MEAN over H,W, QUANTIZE / DEQUANTIZE / int8 requantize, with
 * TFLite Micro's int8 reference arithmetic. */
#include "nn_kernels.h"
#include "nn_dsp.h"

#if NN_USE_DSP
/* Large ADDs: each input's rescaling depends only on its int8 value, so it is
 * tabulated once per call (2 x 256 int32 on the stack); then an element costs
 * two table loads and the output requantisation. */
#define ADD_TABLE_MIN 1024

typedef struct {
    const int32_t *table;  /* t[0..255]: input 1, t[256..511]: input 2 (index v + 128) */
    int32_t mult, half, rmask, right, oo, lo, hi;
} nn_add_loop_t;

void nn_add_rows_s8(const int8_t *a, const int8_t *b, int8_t *out, int32_t n,
                    const nn_add_loop_t *k);

static NN_HOT NN_NOINLINE void add_tabulated(const nn_add_params_t *p, const int8_t *in1,
                                             const int8_t *in2, int8_t *output)
{
    int32_t t[512];
    const nn_requant_t q1 = nn_requant_prepare(p->in1_mult, p->in1_shift);
    const nn_requant_t q2 = nn_requant_prepare(p->in2_mult, p->in2_shift);
    const nn_requant_t qo = nn_requant_prepare(p->out_mult, p->out_shift);
    int32_t max1 = 0, max2 = 0;
    for (int v = -128; v < 128; v++) {
        const int32_t a = nn_requant_raw((int32_t)((uint32_t)(v + p->in1_offset) << p->left_shift), &q1);
        const int32_t b = nn_requant_raw((int32_t)((uint32_t)(v + p->in2_offset) << p->left_shift), &q2);
        t[v + 128] = a;
        t[v + 384] = b;
        max1 = a > max1 ? a : (-a > max1 ? -a : max1);
        max2 = b > max2 ? b : (-b > max2 ? -b : max2);
    }
    const int32_t oo = p->out_offset, lo = p->act_min, hi = p->act_max;
    const int nc = p->c_end - p->c_begin;
    /* The output's SMMULR path (nn_requant_raw) for every element at once when
     * (|t1| + |t2|) << left < 2^30: the tables then hold 2 * (t << left). */
    const int fast = max1 < (1 << 28) && max2 < (1 << 28)
                     && ((max1 + max2) << qo.left) < (1 << 30) && qo.left < 2;
    if (fast) {
        for (int i = 0; i < 512; i++)
            t[i] = (int32_t)((uint32_t)t[i] << (qo.left + 1));
        const nn_add_loop_t k = {t, qo.mult, qo.half, qo.rmask, qo.right, oo, lo, hi};
        if (p->in1_stride == nc && p->in2_stride == nc && p->out_stride == nc) {
            nn_add_rows_s8(in1, in2, output, p->n_pix * nc, &k);
        } else {
            for (int pix = 0; pix < p->n_pix; pix++)
                nn_add_rows_s8(in1 + pix * p->in1_stride, in2 + pix * p->in2_stride,
                               output + pix * p->out_stride, nc, &k);
        }
        return;
    }
    for (int pix = 0; pix < p->n_pix; pix++) {
        const int8_t *a = in1 + pix * p->in1_stride, *b = in2 + pix * p->in2_stride;
        int8_t *out = output + pix * p->out_stride;
        for (int c = 0; c < nc; c++)
            out[c] = nn_requant_apply(t[a[c] + 128] + t[b[c] + 384], &qo, oo, lo, hi);
    }
}
#endif

void nn_add_s8(const nn_add_params_t *p, const int8_t *in1, const int8_t *in2, int8_t *output)
{
    const int nc = p->c_end - p->c_begin;
    const int ls = p->left_shift;
#if NN_USE_DSP
    if (p->n_pix * nc >= ADD_TABLE_MIN) {
        add_tabulated(p, in1, in2, output);
        return;
    }
#endif
    for (int pix = 0; pix < p->n_pix; pix++) {
        const int8_t *a = in1 + pix * p->in1_stride, *b = in2 + pix * p->in2_stride;
        int8_t *out = output + pix * p->out_stride;
        for (int c = 0; c < nc; c++) {
            const int32_t x1 = (int32_t)((uint32_t)(a[c] + p->in1_offset) << ls);
            const int32_t x2 = (int32_t)((uint32_t)(b[c] + p->in2_offset) << ls);
            const int32_t s1 = nn_requantize(x1, p->in1_mult, p->in1_shift);
            const int32_t s2 = nn_requantize(x2, p->in2_mult, p->in2_shift);
            const int32_t r = nn_requantize(s1 + s2, p->out_mult, p->out_shift) + p->out_offset;
            out[c] = (int8_t)nn_clamp(r, p->act_min, p->act_max);
        }
    }
}

void nn_pad_s8(const nn_pad_params_t *p, const int8_t *input, int8_t *output)
{
    const int oh = p->pad_top + p->in_h + p->pad_bottom;
    const int ow = p->pad_left + p->in_w + p->pad_right;
    const int oc = p->pad_front + p->in_c + p->pad_back;
    const int8_t v = (int8_t)p->pad_value;
    for (int y = 0; y < oh; y++) {
        const int iy = y - p->pad_top;
        for (int x = 0; x < ow; x++) {
            const int ix = x - p->pad_left;
            int8_t *out = output + (y * ow + x) * oc;
            if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) {
                memset(out, v, (size_t)oc);
                continue;
            }
            memset(out, v, (size_t)p->pad_front);
            memcpy(out + p->pad_front, input + (iy * p->in_w + ix) * p->in_c, (size_t)p->in_c);
            memset(out + p->pad_front + p->in_c, v, (size_t)p->pad_back);
        }
    }
}

void nn_mean_hw_s8(const nn_mean_params_t *p, const int8_t *input, int8_t *output)
{
    const int n = p->in_h * p->in_w, nc = p->c_end - p->c_begin;
    for (int c = 0; c < nc; c++) {
        int32_t sum = 0;
        for (int i = 0; i < n; i++)
            sum += input[i * p->in_stride + c];
        int32_t r;
        if (p->same_quant) {
            r = sum / n;
        } else {
            r = nn_requantize(sum - p->in_zero_point * n, p->mult, p->shift) + p->out_zero_point;
            r = nn_clamp(r, -128, 127);
        }
        output[c] = (int8_t)r;
    }
}

/* roundf (half away from zero) without libm, for |x| <= 1024: the
 * difference from the truncated value is exact in single precision. */
static inline int32_t round_half_away(float x)
{
    x = x > 1024.0f ? 1024.0f : (x < -1024.0f ? -1024.0f : x);
    const int32_t t = (int32_t)x;
    const float frac = x - (float)t;
    return frac >= 0.5f ? t + 1 : (frac <= -0.5f ? t - 1 : t);
}

void nn_quantize_f32_s8(const float *input, int32_t n, float scale, int32_t zero_point,
                        int8_t *output)
{
    /* Beyond +-1024 the int8 result is saturated whatever the zero point. */
    for (int i = 0; i < n; i++) {
        int32_t q = round_half_away(input[i] / scale) + zero_point;
        output[i] = (int8_t)nn_clamp(q, -128, 127);
    }
}

void nn_dequantize_s8_f32(const int8_t *input, int32_t n, float scale, int32_t zero_point,
                          float *output)
{
    for (int i = 0; i < n; i++)
        output[i] = scale * (float)(input[i] - zero_point);
}

void nn_requantize_s8_s8(const int8_t *input, int32_t n, int32_t in_zero_point, int32_t mult,
                         int32_t shift, int32_t out_zero_point, int8_t *output)
{
    for (int i = 0; i < n; i++) {
        int32_t r = nn_requantize(input[i] - in_zero_point, mult, shift) + out_zero_point;
        output[i] = (int8_t)nn_clamp(r, -128, 127);
    }
}
