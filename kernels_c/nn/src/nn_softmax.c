/* SOFTMAX int8 -> int8, TFLite Micro's reference arithmetic (gemmlowp
 * fixed point: input scaled to Q5.26, exp on negative values, sum in Q12.19,
 * reciprocal by Newton-Raphson), as CMSIS-NN arm_softmax_s8 computes it. */
#include "nn_kernels.h"
#include "nn_dsp.h"

#define ACCUM_BITS 12

static inline int32_t mul(int32_t a, int32_t b)
{
    return nn_sat_rounding_doubling_high_mul(a, b);
}

/* gemmlowp SaturatingRoundingMultiplyByPOT for a positive exponent. */
static inline int32_t mul_pow2(int32_t x, int e)
{
    const int32_t max = (int32_t)((1u << (31 - e)) - 1u);
    if (x > max)
        return INT32_MAX;
    if (x < -max)
        return INT32_MIN;
    return (int32_t)((uint32_t)x << e);
}

/* exp(x) for x <= 0 in Q5.26, result in Q0.31. */
static int32_t exp_on_negative_values(int32_t a)
{
    static const int32_t factors[7] = {
        1672461947, 1302514674, 790015084, 290630308, 39332535, 720401, 242,
    };
    const int32_t quarter = 1 << 24;
    const int32_t a_mod = (a & (quarter - 1)) - quarter;
    const int32_t remainder = a_mod - a;
    /* exp on [-1/4, 0): Taylor around -1/8 */
    const int32_t x = (int32_t)((uint32_t)a_mod << 5) + (1 << 28);
    const int32_t x2 = mul(x, x);
    const int32_t x3 = mul(x2, x);
    const int32_t x4_over_4 = nn_rounding_divide_by_pot(mul(x2, x2), 2);
    const int32_t poly = nn_rounding_divide_by_pot(mul(x4_over_4 + x3, 715827883) + x2, 1);
    int32_t result = 1895147668 + mul(1895147668, x + poly);
    for (int i = 0; i < 7; i++)
        if (remainder & (1 << (24 + i)))
            result = mul(result, factors[i]);
    return a == 0 ? INT32_MAX : result;
}

/* 1 / (1 + x) for x in [0, 1) (Q0.31), result in Q1.30 scaled to Q0.31. */
static int32_t one_over_one_plus_x(int32_t a)
{
    const int64_t sum = (int64_t)a + INT32_MAX;
    const int32_t half_den = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    int32_t x = 1515870810 + mul(half_den, -1010580540);
    for (int i = 0; i < 3; i++) {
        const int32_t one_minus = (1 << 29) - mul(half_den, x);
        x += mul_pow2(mul(x, one_minus), 2);
    }
    return mul_pow2(x, 1);
}

void nn_softmax_s8(const nn_softmax_params_t *p, const int8_t *input, int8_t *output)
{
    const int n = p->row_size;
    const int32_t scale = 1 << p->left_shift;
    for (int r = 0; r < p->num_rows; r++, input += n, output += n) {
        int32_t max = input[0];
        for (int i = 1; i < n; i++)
            max = input[i] > max ? input[i] : max;
        int32_t sum = 0;
        for (int i = 0; i < n; i++) {
            const int32_t diff = input[i] - max;
            if (diff >= p->diff_min)
                sum += nn_rounding_divide_by_pot(
                    exp_on_negative_values(mul(diff * scale, p->mult)), ACCUM_BITS);
        }
        const int headroom = __builtin_clz((uint32_t)sum);
        const int bits_over_unit = ACCUM_BITS - headroom + 23;
        const int32_t shifted = one_over_one_plus_x(
            (int32_t)(((uint32_t)sum << headroom) - 0x80000000u));
        for (int i = 0; i < n; i++) {
            const int32_t diff = input[i] - max;
            int32_t v = -128;
            if (diff >= p->diff_min) {
                const int32_t e = exp_on_negative_values(mul(diff * scale, p->mult));
                v = nn_rounding_divide_by_pot(mul(shifted, e), bits_over_unit) - 128;
                v = nn_clamp(v, -128, 127);
            }
            output[i] = (int8_t)v;
        }
    }
}
