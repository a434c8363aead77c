/* conv3x3: int8 3x3 convolution, 8x8x8 -> 8x8x16, stride 1, padding 1.
 * Exported for tests/int8_ref.py check_conv3x3: conv3x3_{params,input,
 * weights,bias,mult,shift,output}. */
#include "int8_kernels.h"
#include "mcusim.h"
#include "test_util.h"

/* Sizes can be set at build time: conv3x3_big (Makefile) is a layer of
 * about 23 million instructions (32x32x16 -> 32x32x20), for speed benchmarks. */
#ifndef H
#define H 8
#endif
#ifndef W
#define W 8
#endif
#ifndef CI
#define CI 8
#endif
#ifndef CO
#define CO 16
#endif

/* Nominal multiply-accumulates of the kernel call, for cycles-per-MAC reports
 * (`mcusim validate` reads this symbol from the ELF). */
TEST_INFO const uint32_t mcusim_macs = H * W * CO * 3 * 3 * CI;

TEST_EXPORT const int8_conv_params_t conv3x3_params = {
    .in_h = H, .in_w = W, .in_c = CI, .out_h = H, .out_w = W, .out_c = CO,
    .k_h = 3, .k_w = 3, .stride_h = 1, .stride_w = 1, .pad_h = 1, .pad_w = 1,
    .input_offset = 5, .output_offset = -3, .act_min = -128, .act_max = 127,
};
TEST_EXPORT int8_t conv3x3_input[H * W * CI];
TEST_EXPORT int8_t conv3x3_weights[CO * 3 * 3 * CI];
TEST_EXPORT int32_t conv3x3_bias[CO];
TEST_EXPORT int32_t conv3x3_mult[CO];
TEST_EXPORT int32_t conv3x3_shift[CO];
TEST_EXPORT int8_t conv3x3_output[H * W * CO];

int main(void)
{
    uint32_t rng = 0x3C3;
    fill_int8(&rng, conv3x3_input, sizeof conv3x3_input);
    fill_int8(&rng, conv3x3_weights, sizeof conv3x3_weights);
    fill_int32(&rng, conv3x3_bias, CO, 20000);
    /* |acc| is ~5e4, so ~2^-10 scaling lands outputs in int8 range with
     * some saturation. */
    fill_requant(&rng, conv3x3_mult, conv3x3_shift, CO, -11, -9);

    mcusim_cycles_init();
    MCUSIM_REGION_BEGIN("conv3x3");
    uint32_t t0 = mcusim_cycles();
    int8_conv2d(&conv3x3_params, conv3x3_input, conv3x3_weights, conv3x3_bias,
                conv3x3_mult, conv3x3_shift, conv3x3_output);
    uint32_t t1 = mcusim_cycles();
    MCUSIM_REGION_END("conv3x3");

    report("conv3x3", conv3x3_output, sizeof conv3x3_output, t1 - t0);
    return 0;
}
