/* avgpool: int8 3x3 average pool, 16x16x8 -> 8x8x8, stride 2, padding 1
 * (edge windows hold 4 or 6 elements: exercises the rounding division).
 * Exported for tests/int8_ref.py check_avgpool: avgpool_{params,input,
 * output}. */
#include "int8_kernels.h"
#include "mcusim.h"
#include "test_util.h"

#define H 16
#define W 16
#define C 8
#define OH 8
#define OW 8

TEST_EXPORT const int8_conv_params_t avgpool_params = {
    .in_h = H, .in_w = W, .in_c = C, .out_h = OH, .out_w = OW, .out_c = C,
    .k_h = 3, .k_w = 3, .stride_h = 2, .stride_w = 2, .pad_h = 1, .pad_w = 1,
    .act_min = -30, .act_max = 30,
};
TEST_EXPORT int8_t avgpool_input[H * W * C];
TEST_EXPORT int8_t avgpool_output[OH * OW * C];

int main(void)
{
    uint32_t rng = 0xA7;
    fill_int8(&rng, avgpool_input, sizeof avgpool_input);

    mcusim_cycles_init();
    MCUSIM_REGION_BEGIN("avgpool");
    uint32_t t0 = mcusim_cycles();
    int8_avgpool(&avgpool_params, avgpool_input, avgpool_output);
    uint32_t t1 = mcusim_cycles();
    MCUSIM_REGION_END("avgpool");

    report("avgpool", avgpool_output, sizeof avgpool_output, t1 - t0);
    return 0;
}
