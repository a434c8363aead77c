/* conv1x1: int8 pointwise convolution, 8x8x16 -> 8x8x32 (fast path).
 * Exported for tests/int8_ref.py check_conv1x1: conv1x1_{params,input,
 * weights,bias,mult,shift,output}. */
#include "int8_kernels.h"
#include "mcusim.h"
#include "test_util.h"

#define H 8
#define W 8
#define CI 16
#define CO 32

/* Nominal multiply-accumulates of the kernel call, for cycles-per-MAC reports
 * (`mcusim validate` reads this symbol from the ELF). */
TEST_INFO const uint32_t mcusim_macs = H * W * CO * CI;

TEST_EXPORT const int8_conv_params_t conv1x1_params = {
    .in_h = H, .in_w = W, .in_c = CI, .out_h = H, .out_w = W, .out_c = CO,
    .k_h = 1, .k_w = 1, .stride_h = 1, .stride_w = 1, .pad_h = 0, .pad_w = 0,
    .input_offset = -7, .output_offset = 4, .act_min = -128, .act_max = 100,
};
TEST_EXPORT int8_t conv1x1_input[H * W * CI];
TEST_EXPORT int8_t conv1x1_weights[CO * CI];
TEST_EXPORT int32_t conv1x1_bias[CO];
TEST_EXPORT int32_t conv1x1_mult[CO];
TEST_EXPORT int32_t conv1x1_shift[CO];
TEST_EXPORT int8_t conv1x1_output[H * W * CO];

int main(void)
{
    uint32_t rng = 0x1A1;
    fill_int8(&rng, conv1x1_input, sizeof conv1x1_input);
    fill_int8(&rng, conv1x1_weights, sizeof conv1x1_weights);
    fill_int32(&rng, conv1x1_bias, CO, 10000);
    fill_requant(&rng, conv1x1_mult, conv1x1_shift, CO, -10, -8);

    mcusim_cycles_init();
    MCUSIM_REGION_BEGIN("conv1x1");
    uint32_t t0 = mcusim_cycles();
    int8_conv1x1(&conv1x1_params, conv1x1_input, conv1x1_weights, conv1x1_bias,
                 conv1x1_mult, conv1x1_shift, conv1x1_output);
    uint32_t t1 = mcusim_cycles();
    MCUSIM_REGION_END("conv1x1");

    report("conv1x1", conv1x1_output, sizeof conv1x1_output, t1 - t0);
    return 0;
}
