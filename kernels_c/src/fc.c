/* fc: int8 fully connected, 256 -> 16, per-channel requantisation.
 * Exported for tests/int8_ref.py check_fc: fc_{params,input,weights,bias,
 * mult,shift,output}. */
#include "int8_kernels.h"
#include "mcusim.h"
#include "test_util.h"

#define N_IN 256
#define N_OUT 16

/* Nominal multiply-accumulates of the kernel call, for cycles-per-MAC reports
 * (`mcusim validate` reads this symbol from the ELF). */
TEST_INFO const uint32_t mcusim_macs = N_IN * N_OUT;

TEST_EXPORT const int8_fc_params_t fc_params = {
    .in_features = N_IN, .out_features = N_OUT,
    .input_offset = 3, .output_offset = -1, .act_min = -128, .act_max = 127,
};
TEST_EXPORT int8_t fc_input[N_IN];
TEST_EXPORT int8_t fc_weights[N_OUT * N_IN];
TEST_EXPORT int32_t fc_bias[N_OUT];
TEST_EXPORT int32_t fc_mult[N_OUT];
TEST_EXPORT int32_t fc_shift[N_OUT];
TEST_EXPORT int8_t fc_output[N_OUT];

int main(void)
{
    uint32_t rng = 0xFC;
    fill_int8(&rng, fc_input, sizeof fc_input);
    fill_int8(&rng, fc_weights, sizeof fc_weights);
    fill_int32(&rng, fc_bias, N_OUT, 50000);
    fill_requant(&rng, fc_mult, fc_shift, N_OUT, -12, -10);

    mcusim_cycles_init();
    MCUSIM_REGION_BEGIN("fc");
    uint32_t t0 = mcusim_cycles();
    int8_fc(&fc_params, fc_input, fc_weights, fc_bias, fc_mult, fc_shift,
            fc_output);
    uint32_t t1 = mcusim_cycles();
    MCUSIM_REGION_END("fc");

    report("fc", fc_output, sizeof fc_output, t1 - t0);
    return 0;
}
