/* CONV_2D (any kernel, stride, dilation, padding; output-channel slices).
 * DSP cores: im2col of eight output pixels into four int16 column pairs, then
 * 2x2 tiles (two pixels x two output channels) of SMLAD dual MACs
 * (nn_dot_dsp.S): every column word loaded serves two channels and every
 * weight word two pixels, and each weight row is fetched once per eight
 * pixels (from a flash data cache after the first time).
 * Other cores: direct loops. Both are bit-exact with TFLite's reference. */
#include "nn_kernels.h"
#include "nn_dsp.h"
#include "nn_matmul.h"

size_t nn_conv2d_s8_scratch_bytes(const nn_conv_params_t *p)
{
    /* Four column pairs of K int16 values each (eight pixels). */
    return NN_CONV2D_SCRATCH_BYTES_PER_TAP * (size_t)p->k_h * (size_t)p->k_w * (size_t)p->in_c;
}

#if NN_USE_DSP

/* im2col column c (0 = A, 1 = B) of output pixel `pix` into the pair buffer.
 * Channel counts that are not a multiple of four (first layers: 1 or 3) are
 * gathered as int8 first (padding = the zero point, i.e. 0 after the offset)
 * so that the conversion still runs four values at a time. */
#define STAGE_MAX 512

static NN_HOT NN_NOINLINE void build_column(const nn_conv_params_t *p, const int8_t *input,
                                            int pix, int16_t *pair, int c, int K)
{
    const int in_c = p->in_c, out_w = p->out_w, k_w = p->k_w, dw = p->dilation_w;
    const int is = p->in_stride;
    const int32_t off = p->input_offset, off2 = nn_pack_offset(off);
    const int oy = pix / out_w, ox = pix - oy * out_w;
    const int y0 = oy * p->stride_h - p->pad_top, x0 = ox * p->stride_w - p->pad_left;
    /* Taps kx0..kx1-1 of a row are inside the input. */
    int kx0 = 0, kx1 = k_w;
    while (kx0 < kx1 && x0 + kx0 * dw < 0)
        kx0++;
    while (kx1 > kx0 && x0 + (kx1 - 1) * dw >= p->in_w)
        kx1--;
    /* Inside taps of a row are one contiguous run of input. */
    const int run = dw == 1 && is == in_c;
    const int row_len = k_w * in_c;
    int8_t stage[STAGE_MAX];
    const int staged = (in_c & 3) != 0 && K <= STAGE_MAX;
    for (int ky = 0, k = 0; ky < p->k_h; ky++, k += row_len) {
        const int iy = y0 + ky * p->dilation_h;
        const int inside_y = iy >= 0 && iy < p->in_h;
        const int8_t *src = input + (iy * p->in_w + x0 + kx0 * dw) * is;
        const int a = inside_y ? kx0 * in_c : row_len, b = inside_y ? kx1 * in_c : row_len;
        if (staged) {
            int8_t *dst = stage + k;
            for (int i = 0; i < a; i++)
                dst[i] = (int8_t)-off;
            if (run) {
                for (int i = a; i < b; i++)
                    dst[i] = src[i - a];
            } else {
                for (int t = kx0; t < (inside_y ? kx1 : kx0); t++, src += dw * is)
                    for (int i = 0; i < in_c; i++)
                        dst[t * in_c + i] = src[i];
            }
            for (int i = b; i < row_len; i++)
                dst[i] = (int8_t)-off;
            continue;
        }
        if (a > 0)
            nn_pair_zero(pair, c, k, a, K);
        if (b > a) {
            if (run) {
                nn_pair_fill(pair, c, k + a, b - a, K, src, off, off2);
            } else {
                for (int t = kx0; t < kx1; t++, src += dw * is)
                    nn_pair_fill(pair, c, k + t * in_c, in_c, K, src, off, off2);
            }
        }
        if (b < row_len)
            nn_pair_zero(pair, c, k + b, row_len - b, K);
    }
    if (staged)
        nn_pair_fill(pair, c, 0, K, K, stage, off, off2);
}

/* Requantises channels oc (and oc + 1 if has2) of the np pixels of a block
 * from the tiles' sums s[pair*4 + (w0.A, w0.B, w1.A, w1.B)]. A separate
 * function so that its values stay in registers. */
static NN_HOT NN_NOINLINE void store_pair(int8_t *out, int os, const int32_t *s, int np,
                                         int has2, const int32_t *mult, const int32_t *shift,
                                         const nn_conv_params_t *p)
{
    const int32_t oo = p->output_offset, lo = p->act_min, hi = p->act_max;
    for (int ch = 0; ch <= has2; ch++, s += 2, out++) {
        const nn_requant_t q = nn_requant_prepare(mult[ch], shift[ch]);
        int8_t *o = out;
        for (int i = 0; i < np; i += 2, o += 2 * os) {
            o[0] = nn_requant_apply(s[2 * i], &q, oo, lo, hi);
            if (i + 1 < np)
                o[os] = nn_requant_apply(s[2 * i + 1], &q, oo, lo, hi);
        }
    }
}

/* Weights of two output channels are streamed once per block of eight pixels
 * (four column pairs; nn_dot2x2xN_s8s16 walks them in chunks that stay in a
 * 256-byte flash data cache between the pairs' passes). */
#define BLOCK 8

static NN_HOT void conv_dsp(const nn_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias, const int32_t *mult,
                            const int32_t *shift, int8_t *output, int16_t *scratch)
{
    const int K = p->k_h * p->k_w * p->in_c, k4 = K & ~3, tail = K - k4;
    const int n_pix = p->out_h * p->out_w;
    const int cb = p->c_begin, ce = p->c_end, os = p->out_stride;
    const int pointwise = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1
                          && p->pad_top == 0 && p->pad_left == 0
                          && p->in_h == p->out_h && p->in_w == p->out_w;
    const int32_t off = p->input_offset, off2 = nn_pack_offset(off);

    for (int pix = 0; pix < n_pix; pix += BLOCK) {
        const int np = n_pix - pix < BLOCK ? n_pix - pix : BLOCK;
        const int n_pairs = (np + 1) / 2;
        for (int c = 0; c < 2 * n_pairs; c++) {
            int16_t *pair = scratch + 2 * K * (c >> 1);
            if (c >= np)
                nn_pair_zero(pair, c & 1, 0, K, K);
            else if (pointwise)
                nn_pair_fill(pair, c & 1, 0, K, K, input + (pix + c) * p->in_stride, off, off2);
            else
                build_column(p, input, pix + c, pair, c & 1, K);
        }
        int8_t *out = output + pix * os - cb;
        for (int oc = cb; oc < ce; oc += 2) {
            const int has2 = oc + 1 < ce, stride = has2 ? K : 0;
            const int8_t *w0 = filter + oc * K;
            const int32_t b0 = bias ? bias[oc] : 0, b1 = bias && has2 ? bias[oc + 1] : 0;
            /* s[4i..4i+3] = w0.A, w0.B, w1.A, w1.B of pair i */
            int32_t s[4 * BLOCK / 2];
            const int16_t *pos[BLOCK / 2];
            for (int i = 0; i < n_pairs; i++) {
                s[4 * i] = s[4 * i + 1] = b0;
                s[4 * i + 2] = s[4 * i + 3] = b1;
                pos[i] = scratch + 2 * K * i;
            }
            nn_dot2x2xN_s8s16(pos, w0, stride, k4 >> 2, s, n_pairs);
            for (int i = 0; i < n_pairs && tail; i++) {
                const int16_t *ta = scratch + 2 * K * i + 2 * k4, *tb = ta + tail;
                const int8_t *v0 = w0 + k4, *v1 = v0 + stride;
                for (int k = 0; k < tail; k++) {
                    s[4 * i] += v0[k] * ta[k];
                    s[4 * i + 1] += v0[k] * tb[k];
                    s[4 * i + 2] += v1[k] * ta[k];
                    s[4 * i + 3] += v1[k] * tb[k];
                }
            }
            store_pair(out + oc, os, s, np, has2, mult + oc, shift + oc, p);
        }
    }
}

#else /* portable */

static void conv_portable(const nn_conv_params_t *p, const int8_t *input, const int8_t *filter,
                          const int32_t *bias, const int32_t *mult, const int32_t *shift,
                          int8_t *output)
{
    const int in_c = p->in_c, k_h = p->k_h, k_w = p->k_w, K = k_h * k_w * in_c;
    const int is = p->in_stride, dw = p->dilation_w;
    const int32_t off = p->input_offset, oo = p->output_offset;
    const int cb = p->c_begin, ce = p->c_end;
    /* The in-bounds taps of a kernel row are one contiguous run of input and
     * of filter when there is no dilation and no channel gap. */
    const int run = dw == 1 && is == in_c;

    for (int oy = 0; oy < p->out_h; oy++) {
        const int y0 = oy * p->stride_h - p->pad_top;
        int ky0 = 0, ky1 = k_h;
        while (ky0 < ky1 && y0 + ky0 * p->dilation_h < 0)
            ky0++;
        while (ky1 > ky0 && y0 + (ky1 - 1) * p->dilation_h >= p->in_h)
            ky1--;
        for (int ox = 0; ox < p->out_w; ox++) {
            const int x0 = ox * p->stride_w - p->pad_left;
            int kx0 = 0, kx1 = k_w;
            while (kx0 < kx1 && x0 + kx0 * dw < 0)
                kx0++;
            while (kx1 > kx0 && x0 + (kx1 - 1) * dw >= p->in_w)
                kx1--;
            int8_t *out = output + (oy * p->out_w + ox) * p->out_stride - cb;
            for (int oc = cb; oc < ce; oc++) {
                const int8_t *f = filter + oc * K;
                int32_t acc = bias ? bias[oc] : 0;
                for (int ky = ky0; ky < ky1; ky++) {
                    const int iy = y0 + ky * p->dilation_h;
                    const int8_t *in = input + (iy * p->in_w + x0 + kx0 * dw) * is;
                    const int8_t *fk = f + (ky * k_w + kx0) * in_c;
                    if (run) {
                        const int n = (kx1 - kx0) * in_c;
                        for (int i = 0; i < n; i++)
                            acc += (in[i] + off) * fk[i];
                        continue;
                    }
                    for (int kx = kx0; kx < kx1; kx++, in += dw * is, fk += in_c)
                        for (int ic = 0; ic < in_c; ic++)
                            acc += (in[ic] + off) * fk[ic];
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
