/*
 * mcusim nn kernel library: int8 inference kernels with TFLite Micro's
 * reference arithmetic (bit-exact), batch 1 / NHWC, for Cortex-M.
 * The API is described in /work/coord/nn-kernels-api.md (and README.md next
 * to this directory); keep both in sync.
 *
 * Conventions shared by every kernel:
 *   - Activations are NHWC int8 with batch 1: pixel p = y*w + x, channel c of
 *     pixel p lives at  buf[p * stride + (c - c_first)], where `stride` is
 *     the buffer's channel stride (int8 elements from one pixel to the next,
 *     >= the channels the buffer holds) and c_first is the first channel the
 *     buffer holds. A full tensor has stride = channels and c_first = 0; a
 *     channel slice buffer (partial execution) holds channels
 *     [c_first, c_first + stride). The caller passes the pointer to the slot
 *     of channel c_first of pixel 0, so a kernel writing channels
 *     [c_begin, c_end) of a full tensor is given `out + c_begin`.
 *   - Weights (filters), bias, mult and shift are always indexed by ABSOLUTE
 *     channel numbers (the whole tensor's), whatever slice is computed.
 *   - bias may be NULL (= zero bias).
 *   - input_offset = -input zero point, output_offset = output zero point.
 *   - Per output channel requantisation: nn_requantize(acc, mult[oc],
 *     shift[oc]) + output_offset, clamped to [act_min, act_max]. Per-tensor
 *     quantisation: the caller repeats the value per channel (FC also has a
 *     per_channel flag).
 *   - Scratch buffers are int16-aligned (4-byte aligned is best); their sizes
 *     come from the *_scratch_bytes() functions (formulas in the API file).
 */
#ifndef NN_KERNELS_H
#define NN_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- arithmetic (TFLite MultiplyByQuantizedMultiplier) -------------------- */

static inline int32_t nn_sat_rounding_doubling_high_mul(int32_t a, int32_t b)
{
    if (a == INT32_MIN && b == INT32_MIN)
        return INT32_MAX;
    int64_t ab = (int64_t)a * b;
    int64_t nudge = ab >= 0 ? (1ll << 30) : (1 - (1ll << 30));
    return (int32_t)((ab + nudge) / (1ll << 31)); /* truncating division */
}

static inline int32_t nn_rounding_divide_by_pot(int32_t x, int exponent)
{
    int32_t mask = (int32_t)((1u << exponent) - 1u);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

/* TFLite MultiplyByQuantizedMultiplier: left shift by max(shift,0) (wrapping,
 * as uint32), SRDHM by mult, rounding right shift by max(-shift,0).
 * mult must be in [0, 2^31) (TFLite's QuantizeMultiplier never gives
 * INT32_MIN): then SRDHM equals (x*mult + 2^30) >> 31 (one SMULL, no
 * saturation case and no sign-dependent nudge), which is what this computes. */
static inline int32_t nn_requantize(int32_t acc, int32_t mult, int32_t shift)
{
    const int32_t left = shift & ~(shift >> 31);     /* max(shift, 0) */
    const int32_t right = left - shift;              /* max(-shift, 0) */
    const int32_t x = (int32_t)((uint32_t)acc << left);
    const int32_t hi = (int32_t)((uint64_t)((int64_t)x * mult + (1ll << 30)) >> 31);
    /* RoundingDivideByPOT(hi, right): half away from zero. */
    const int32_t mask = (int32_t)~(~0u << right);
    const int32_t threshold = (mask >> 1) - (hi >> 31);
    return (hi >> right) + ((hi & mask) > threshold);
}

static inline int8_t nn_finish(int32_t acc, int32_t mult, int32_t shift,
                               int32_t out_offset, int32_t act_min, int32_t act_max)
{
    int32_t v = nn_requantize(acc, mult, shift) + out_offset;
    v = v < act_min ? act_min : v;
    v = v > act_max ? act_max : v;
    return (int8_t)v;
}

/* ---- convolution-like ops ---------------------------------------------- */

/* One struct for CONV_2D, DEPTHWISE_CONV_2D, the pools and the pointwise
 * accumulation. Every field is int32 (the host can decode it as an int32
 * array). Fields a kernel does not use are ignored. */
typedef struct {
    int32_t in_h, in_w, in_c;      /* input tensor (in_c: ALL its channels) */
    int32_t in_stride;             /* channel stride of the input buffer */
    int32_t out_h, out_w, out_c;   /* output tensor (out_c: ALL its channels) */
    int32_t out_stride;            /* channel stride of the output buffer */
    int32_t k_h, k_w;              /* filter / pool window */
    int32_t stride_h, stride_w;
    int32_t dilation_h, dilation_w; /* conv/depthwise; 1 = none */
    int32_t pad_top, pad_left;     /* computed by the caller (TFLite SAME/VALID) */
    int32_t input_offset;          /* -input zero point (not pools) */
    int32_t output_offset;         /* output zero point (not pools) */
    int32_t act_min, act_max;      /* activation clamp */
    int32_t c_begin, c_end;        /* output channels computed: [c_begin, c_end) */
    int32_t depth_mult;            /* depthwise channel multiplier (>= 1) */
    int32_t ic_begin, ic_end;      /* pointwise accumulation: input channels */
} nn_conv_params_t;

/* Scratch bytes of CONV_2D per filter element (k_h * k_w * in_c): four int16
 * im2col column pairs. The model-path planner reads this number. */
#define NN_CONV2D_SCRATCH_BYTES_PER_TAP 16

/* CONV_2D. filter OHWI [out_c][k_h][k_w][in_c]; the input buffer holds all
 * in_c channels (c_first = 0, stride in_stride). Output channels
 * [c_begin, c_end) are written, channel oc of pixel p at
 * output[p*out_stride + oc - c_begin]. Any k, stride, dilation, padding;
 * 1x1 stride-1 unpadded convolutions take a fast path. */
void nn_conv2d_s8(const nn_conv_params_t *p, const int8_t *input,
                  const int8_t *filter, const int32_t *bias,
                  const int32_t *mult, const int32_t *shift,
                  int8_t *output, int16_t *scratch);
size_t nn_conv2d_s8_scratch_bytes(const nn_conv_params_t *p);

/* DEPTHWISE_CONV_2D. filter 1HWO [k_h][k_w][out_c] with out_c = in_c *
 * depth_mult, output channel oc reads input channel oc / depth_mult.
 * Output channels [c_begin, c_end); the input buffer holds input channels
 * from c_first = c_begin / depth_mult on: channel ic of pixel p at
 * input[p*in_stride + ic - c_begin/depth_mult]. 3x3 has a fast path. */
void nn_depthwise_conv2d_s8(const nn_conv_params_t *p, const int8_t *input,
                            const int8_t *filter, const int32_t *bias,
                            const int32_t *mult, const int32_t *shift,
                            int8_t *output, int16_t *scratch);
size_t nn_depthwise_conv2d_s8_scratch_bytes(const nn_conv_params_t *p);

/* AVERAGE_POOL_2D / MAX_POOL_2D (TFLite: the average divides by the number
 * of in-bounds elements, rounding half away from zero; padding excluded).
 * Channels [c_begin, c_end); input and output buffers both start at channel
 * c_begin (input[p*in_stride + c - c_begin], same for output). Offsets are
 * ignored; act_min/act_max clamp. */
void nn_avg_pool_s8(const nn_conv_params_t *p, const int8_t *input, int8_t *output);
void nn_max_pool_s8(const nn_conv_params_t *p, const int8_t *input, int8_t *output);

/* Partial sums of a pointwise (1x1, stride 1, unpadded) convolution or of a
 * fully connected layer (in_h = batches, in_w = 1): input channels
 * [ic_begin, ic_end) x output channels [c_begin, c_end), accumulated in
 * int32:  acc[p*out_stride + oc - c_begin]  (+)=  sum_ic (x + input_offset)
 * * filter[oc*in_c + ic].  The input buffer holds channels from ic_begin:
 * input[p*in_stride + ic - ic_begin]. first != 0: acc = bias[oc] (or 0) +
 * partial sum (overwrites); first == 0: acc += partial sum. Every input
 * channel range must be given exactly once, then nn_requantize_acc_s8. */
void nn_pointwise_acc_s8(const nn_conv_params_t *p, const int8_t *input,
                         const int8_t *filter, const int32_t *bias,
                         int32_t *acc, int first, int16_t *scratch);
size_t nn_pointwise_acc_s8_scratch_bytes(const nn_conv_params_t *p);

/* int32 accumulators -> int8: output channels [c_begin, c_end) of
 * out_h*out_w pixels; acc[p*acc_stride + oc - c_begin] ->
 * output[p*out_stride + oc - c_begin] with mult/shift[oc], output_offset,
 * act clamp (from p). acc_stride is usually p->out_stride. */
void nn_requantize_acc_s8(const nn_conv_params_t *p, const int32_t *acc,
                          int32_t acc_stride, const int32_t *mult,
                          const int32_t *shift, int8_t *output);

/* ---- fully connected ----------------------------------------------------- */

typedef struct {
    int32_t batches;               /* rows of input/output */
    int32_t in_features;           /* input row length (= input row stride) */
    int32_t out_features;          /* weight rows */
    int32_t out_stride;            /* output row stride (>= c_end - c_begin) */
    int32_t input_offset, output_offset;
    int32_t act_min, act_max;
    int32_t c_begin, c_end;        /* output features computed; written at
                                      output[b*out_stride + o - c_begin] */
    int32_t per_channel;           /* 0: mult[0]/shift[0] for every output */
} nn_fc_params_t;

/* weights [out_features][in_features], bias [out_features] (or NULL). */
void nn_fully_connected_s8(const nn_fc_params_t *p, const int8_t *input,
                           const int8_t *weights, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift,
                           int8_t *output);

/* ---- element-wise ------------------------------------------------------------ */

/* TFLite int8 ADD (same shapes, no broadcast): left_shift (20),
 * x_i' = nn_requantize((x_i + in_offset_i) << left_shift, in_mult_i, in_shift_i),
 * out = clamp(nn_requantize(x_1' + x_2', out_mult, out_shift) + out_offset).
 * n_pix pixels x channels [c_begin, c_end); every buffer starts at channel
 * c_begin and has its own stride. */
typedef struct {
    int32_t n_pix;
    int32_t c_begin, c_end;
    int32_t in1_stride, in2_stride, out_stride;
    int32_t left_shift;
    int32_t in1_offset, in1_mult, in1_shift;   /* in*_offset = -zero point */
    int32_t in2_offset, in2_mult, in2_shift;
    int32_t out_offset, out_mult, out_shift;
    int32_t act_min, act_max;
} nn_add_params_t;

void nn_add_s8(const nn_add_params_t *p, const int8_t *in1, const int8_t *in2,
               int8_t *output);

/* SOFTMAX int8 -> int8 (output zero point -128, scale 1/256), bit-exact with
 * TFLite Micro / CMSIS-NN arm_softmax_s8. mult/left_shift/diff_min as TFLite
 * computes them in Prepare (see the API file). num_rows rows of row_size. */
typedef struct {
    int32_t num_rows, row_size;
    int32_t mult, left_shift, diff_min;
} nn_softmax_params_t;

void nn_softmax_s8(const nn_softmax_params_t *p, const int8_t *input, int8_t *output);

/* PAD int8 (constant pad_value, usually the zero point) on H, W and C:
 * output is (pad_top + in_h + pad_bottom) x (pad_left + in_w + pad_right) x
 * (pad_front + in_c + pad_back), dense NHWC on both sides. */
typedef struct {
    int32_t in_h, in_w, in_c;
    int32_t pad_top, pad_bottom, pad_left, pad_right, pad_front, pad_back;
    int32_t pad_value;
} nn_pad_params_t;

void nn_pad_s8(const nn_pad_params_t *p, const int8_t *input, int8_t *output);

/* MEAN over H and W (keep dims or not: the output is c values), TFLite Micro
 * int8 semantics: out = clamp(nn_requantize(sum - in_zp*h*w, mult, shift)
 * + out_zp) where mult/shift are the multiplier in_scale/out_scale ALREADY
 * adapted by 1/(h*w) as TFLite Micro's reduce Prepare does (the caller's job:
 * current TFLM: QuantizeMultiplier(in/out), then num_bits = ceil(log2(h*w)),
 * shift -= num_bits, mult = round(mult * 2^num_bits / (h*w))). same_quant = 1
 * selects the raw sum / (h*w) (truncating) of older TFLM versions when input
 * and output quantisation are equal; current TFLM needs 0. Channels
 * [c_begin, c_end): input[p*in_stride + c - c_begin] -> output[c - c_begin]. */
typedef struct {
    int32_t in_h, in_w, in_stride;
    int32_t c_begin, c_end;
    int32_t in_zero_point, out_zero_point;
    int32_t mult, shift;
    int32_t same_quant;
} nn_mean_params_t;

void nn_mean_hw_s8(const nn_mean_params_t *p, const int8_t *input, int8_t *output);

/* QUANTIZE float -> int8: clamp(round_half_away(x / scale) + zero_point)
 * in single precision; DEQUANTIZE int8 -> float: scale * (q - zero_point).
 * int8 -> int8 requantize (QUANTIZE with an int8 input):
 * clamp(nn_requantize(q - in_zp, mult, shift) + out_zp). n elements. */
void nn_quantize_f32_s8(const float *input, int32_t n, float scale,
                        int32_t zero_point, int8_t *output);
void nn_dequantize_s8_f32(const int8_t *input, int32_t n, float scale,
                          int32_t zero_point, float *output);
void nn_requantize_s8_s8(const int8_t *input, int32_t n, int32_t in_zero_point,
                         int32_t mult, int32_t shift, int32_t out_zero_point,
                         int8_t *output);

#ifdef __cplusplus
}
#endif

#endif /* NN_KERNELS_H */
