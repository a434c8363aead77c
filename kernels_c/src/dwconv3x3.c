/* dwconv3x3: int8 depthwise 3x3 convolution, 16x16x8 -> 8x8x8, stride 2,
 * padding 1 (so windows are clipped at the top/left edges).
 * Exported for tests/int8_ref.py check_dwconv3x3: dwconv3x3_{params,input,
 * weights,bias,mult,shift,output}. */
#include "int8_kernels.h"
#include "mcusim.h"
#include "test_util.h"

#define H 16
#define W 16
#define C 8
#define OH 8
#define OW 8

/* Nominal multiply-accumulates of the kernel call, for cycles-per-MAC reports
 * (`mcusim validate` reads this symbol from the ELF). */
TEST_INFO const uint32_t mcusim_macs = OH * OW * C * 3 * 3;

TEST_EXPORT const int8_conv_params_t dwconv3x3_params = {
    .in_h = H, .in_w = W, .in_c = C, .out_h = OH, .out_w = OW, .out_c = C,
    .k_h = 3, .k_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1,
    .input_offset = 12, .output_offset = -10, .act_min = -128, .act_max = 127,
};
TEST_EXPORT int8_t dwconv3x3_input[H * W * C];
TEST_EXPORT int8_t dwconv3x3_weights[3 * 3 * C];
TEST_EXPORT int32_t dwconv3x3_bias[C];
TEST_EXPORT int32_t dwconv3x3_mult[C];
TEST_EXPORT int32_t dwconv3x3_shift[C];
TEST_EXPORT int8_t dwconv3x3_output[OH * OW * C];

int main(void)
{
    uint32_t rng = 0xD3D;
    fill_int8(&rng, dwconv3x3_input, sizeof dwconv3x3_input);
    fill_int8(&rng, dwconv3x3_weights, sizeof dwconv3x3_weights);
    fill_int32(&rng, dwconv3x3_bias, C, 5000);
    fill_requant(&rng, dwconv3x3_mult, dwconv3x3_shift, C, -9, -7);

    mcusim_cycles_init();
    MCUSIM_REGION_BEGIN("dwconv3x3");
    uint32_t t0 = mcusim_cycles();
    int8_dwconv3x3(&dwconv3x3_params, dwconv3x3_input, dwconv3x3_weights,
                   dwconv3x3_bias, dwconv3x3_mult, dwconv3x3_shift,
                   dwconv3x3_output);
    uint32_t t1 = mcusim_cycles();
    MCUSIM_REGION_END("dwconv3x3");

    report("dwconv3x3", dwconv3x3_output, sizeof dwconv3x3_output, t1 - t0);
    return 0;
}
