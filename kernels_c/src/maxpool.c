/* maxpool: int8 2x2 max pool, 16x16x8 -> 8x8x8, stride 2, no padding.
 * Exported for tests/int8_ref.py check_maxpool: maxpool_{params,input,
 * output}. */
#include "int8_kernels.h"
#include "mcusim.h"
#include "test_util.h"

#define H 16
#define W 16
#define C 8
#define OH 8
#define OW 8

TEST_EXPORT const int8_conv_params_t maxpool_params = {
    .in_h = H, .in_w = W, .in_c = C, .out_h = OH, .out_w = OW, .out_c = C,
    .k_h = 2, .k_w = 2, .stride_h = 2, .stride_w = 2, .pad_h = 0, .pad_w = 0,
    .act_min = -128, .act_max = 90,
};
TEST_EXPORT int8_t maxpool_input[H * W * C];
TEST_EXPORT int8_t maxpool_output[OH * OW * C];

int main(void)
{
    uint32_t rng = 0x3A;
    fill_int8(&rng, maxpool_input, sizeof maxpool_input);

    mcusim_cycles_init();
    MCUSIM_REGION_BEGIN("maxpool");
    uint32_t t0 = mcusim_cycles();
    int8_maxpool(&maxpool_params, maxpool_input, maxpool_output);
    uint32_t t1 = mcusim_cycles();
    MCUSIM_REGION_END("maxpool");

    report("maxpool", maxpool_output, sizeof maxpool_output, t1 - t0);
    return 0;
}
