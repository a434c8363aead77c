/*
 * int8 inference kernels, TFLite / CMSIS-NN conventions:
 *   - batch 1, activations NHWC (so [h][w][c]) as int8;
 *   - conv filters OHWI ([out_c][k_h][k_w][in_c]); depthwise filters 1HWC
 *     ([k_h][k_w][c], channel multiplier 1); fully connected weights [out][in];
 *   - int32 bias per output channel, added to the accumulator;
 *   - input_offset is added to every input value (= -input zero point),
 *     padded positions contribute nothing (they equal the zero point);
 *   - per-output-channel requantisation int8_requantize(acc, mult, shift),
 *     then + output_offset, then clamp to [act_min, act_max].
 * tests/int8_ref.py mirrors these semantics bit-exactly and decodes the
 * parameter structs below field by field: keep both in sync.
 */
#ifndef INT8_KERNELS_H
#define INT8_KERNELS_H

#include <stdint.h>

/* Used by conv2d, conv1x1, dwconv3x3 and the pools (pools ignore the
 * offsets; dwconv requires in_c == out_c). All fields int32 so the host side
 * can decode the struct as a flat int32 array. */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t out_h, out_w, out_c;
    int32_t k_h, k_w;
    int32_t stride_h, stride_w;
    int32_t pad_h, pad_w;           /* top / left padding */
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
} int8_conv_params_t;

typedef struct {
    int32_t in_features, out_features;
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
} int8_fc_params_t;

/* arm_nn_requantize / TFLite MultiplyByQuantizedMultiplier: left shift for
 * shift > 0, saturating rounding doubling high multiply by mult (a Q31
 * value), then rounding right shift for shift < 0. */
static inline int32_t int8_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31));   /* truncating division */
}

static inline int32_t int8_rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)((1u << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

static inline int32_t int8_requantize(int32_t acc, int32_t mult, int32_t shift)
{
    int left = shift > 0 ? shift : 0;
    int right = shift > 0 ? 0 : -shift;
    /* Unsigned shift: wraps instead of being undefined on overflow, which
     * matches numpy int32 arithmetic in the reference. */
    int32_t x = (int32_t)((uint32_t)acc << left);
    return int8_rounding_divide_by_pot(int8_sat_rounding_doubling_high_mul(x, mult), right);
}

/* General KxK convolution with stride and padding. */
void int8_conv2d(const int8_conv_params_t *p, const int8_t *input,
                 const int8_t *filter, const int32_t *bias,
                 const int32_t *mult, const int32_t *shift, int8_t *output);

/* Pointwise convolution: requires k = 1, stride 1, no padding, in = out HW. */
void int8_conv1x1(const int8_conv_params_t *p, const int8_t *input,
                  const int8_t *filter, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift, int8_t *output);

/* Depthwise 3x3 convolution, channel multiplier 1 (in_c == out_c, k = 3). */
void int8_dwconv3x3(const int8_conv_params_t *p, const int8_t *input,
                    const int8_t *filter, const int32_t *bias,
                    const int32_t *mult, const int32_t *shift, int8_t *output);

/* Fully connected with per-output-channel requantisation. */
void int8_fc(const int8_fc_params_t *p, const int8_t *input,
             const int8_t *weights, const int32_t *bias,
             const int32_t *mult, const int32_t *shift, int8_t *output);

/* Average pool: sum over the in-bounds window, divide by the number of
 * in-bounds elements rounding half away from zero, clamp. No offsets. */
void int8_avgpool(const int8_conv_params_t *p, const int8_t *input, int8_t *output);

/* Max pool over the in-bounds window, clamp. */
void int8_maxpool(const int8_conv_params_t *p, const int8_t *input, int8_t *output);

#endif /* INT8_KERNELS_H */
