/* Benchmarks of the nn kernel library (bench/nn_kernels.py).
 *
 *   nn_bench            layer types: 3x3 conv 16x16x16 -> 16 (pad 1), 3x3
 *                       depthwise, 1x1 conv, fully connected;
 *   nn_bench resnet8    the convolutions and FC of MLPerf Tiny ResNet-8.
 *
 * Each layer runs inside a region marker named after it and prints
 * "<name> macs <N>" (for ADD and pooling: N = output elements). Weights are const (in flash, as a model's are); their
 * values do not change the kernels' timing. */
#include <stdio.h>
#include <string.h>

#include "mcusim.h"
#include "nn_kernels.h"
#include "test_util.h"

typedef struct {
    const char *name;
    char op; /* 'c' conv, 'd' depthwise, 'f' fully connected, 'a' ADD, 'p' average pool */
    int16_t h, w, in_c, out_c, k, stride, pad;
} layer_t;

static const layer_t kernels_set[] = {
    {"conv3x3_16x16x16", 'c', 16, 16, 16, 16, 3, 1, 1},
    {"dwconv3x3_16x16x64", 'd', 16, 16, 64, 64, 3, 1, 1},
    {"conv1x1_16x16x64", 'c', 16, 16, 64, 64, 1, 1, 0},
    {"fc_256x128", 'f', 1, 1, 256, 128, 1, 1, 0},
};

static const layer_t resnet8_set[] = {
    {"r8_conv0", 'c', 32, 32, 3, 16, 3, 1, 1},
    {"r8_s1_conv1", 'c', 32, 32, 16, 16, 3, 1, 1},
    {"r8_s1_conv2", 'c', 32, 32, 16, 16, 3, 1, 1},
    {"r8_s2_conv1", 'c', 32, 32, 16, 32, 3, 2, 0}, /* pad bottom/right only */
    {"r8_s2_conv2", 'c', 16, 16, 32, 32, 3, 1, 1},
    {"r8_s2_short", 'c', 32, 32, 16, 32, 1, 2, 0},
    {"r8_s3_conv1", 'c', 16, 16, 32, 64, 3, 2, 0},
    {"r8_s3_conv2", 'c', 8, 8, 64, 64, 3, 1, 1},
    {"r8_s3_short", 'c', 16, 16, 32, 64, 1, 2, 0},
    {"r8_s1_add", 'a', 32, 32, 16, 16, 1, 1, 0},
    {"r8_s2_add", 'a', 16, 16, 32, 32, 1, 1, 0},
    {"r8_s3_add", 'a', 8, 8, 64, 64, 1, 1, 0},
    {"r8_avgpool", 'p', 8, 8, 64, 64, 8, 8, 0},
    {"r8_fc", 'f', 1, 1, 64, 10, 1, 1, 0},
};

#define MAX_ACT (32 * 32 * 16)
#define MAX_W (9 * 64 * 64)
#define MAX_C 128

static const int8_t weights[MAX_W] = {1};
static const int32_t bias[MAX_C] = {1};
static int32_t mult[MAX_C], shift[MAX_C];
static int8_t act_in[MAX_ACT], act_out[MAX_ACT];
static int16_t scratch[9 * 64 * 8];

static int out_size(int n, int k, int stride, int pad)
{
    return (n + 2 * pad - k) / stride + 1;
}

static uint32_t run_layer(const layer_t *l)
{
    const int oh = l->op == 'f' ? 1 : l->op == 'a' ? l->h : out_size(l->h, l->k, l->stride, l->pad);
    const int ow = l->op == 'f' ? 1 : l->op == 'a' ? l->w : out_size(l->w, l->k, l->stride, l->pad);
    uint32_t macs;
    if (l->op == 'a') {
        /* ResNet-8-like quantisation: ADD's multipliers for scales 0.05, 0.04 -> 0.06. */
        nn_add_params_t a = {
            .n_pix = l->h * l->w, .c_begin = 0, .c_end = l->in_c, .in1_stride = l->in_c,
            .in2_stride = l->in_c, .out_stride = l->in_c, .left_shift = 20,
            .in1_offset = 3, .in1_mult = 1073741824, .in1_shift = 0,
            .in2_offset = -7, .in2_mult = 1717986918, .in2_shift = -1,
            .out_offset = -5, .out_mult = 1789569707, .out_shift = -19,
            .act_min = -128, .act_max = 127,
        };
        macs = (uint32_t)(l->h * l->w * l->in_c);
        MCUSIM_REGION_BEGIN(l->name);
        nn_add_s8(&a, act_in, act_in + macs / 2, act_out);
        MCUSIM_REGION_END(l->name);
    } else if (l->op == 'p') {
        nn_conv_params_t p = {
            .in_h = l->h, .in_w = l->w, .in_c = l->in_c, .in_stride = l->in_c,
            .out_h = oh, .out_w = ow, .out_c = l->out_c, .out_stride = l->out_c,
            .k_h = l->k, .k_w = l->k, .stride_h = l->stride, .stride_w = l->stride,
            .act_min = -128, .act_max = 127, .c_begin = 0, .c_end = l->out_c,
        };
        macs = (uint32_t)(oh * ow * l->out_c);
        MCUSIM_REGION_BEGIN(l->name);
        nn_avg_pool_s8(&p, act_in, act_out);
        MCUSIM_REGION_END(l->name);
    } else if (l->op == 'f') {
        nn_fc_params_t f = {
            .batches = 1, .in_features = l->in_c, .out_features = l->out_c,
            .out_stride = l->out_c, .input_offset = 5, .output_offset = -3,
            .act_min = -128, .act_max = 127, .c_begin = 0, .c_end = l->out_c, .per_channel = 1,
        };
        macs = (uint32_t)l->in_c * (uint32_t)l->out_c;
        MCUSIM_REGION_BEGIN(l->name);
        nn_fully_connected_s8(&f, act_in, weights, bias, mult, shift, act_out);
        MCUSIM_REGION_END(l->name);
    } else {
        nn_conv_params_t p = {
            .in_h = l->h, .in_w = l->w, .in_c = l->in_c, .in_stride = l->in_c,
            .out_h = oh, .out_w = ow, .out_c = l->out_c, .out_stride = l->out_c,
            .k_h = l->k, .k_w = l->k, .stride_h = l->stride, .stride_w = l->stride,
            .dilation_h = 1, .dilation_w = 1, .pad_top = l->pad, .pad_left = l->pad,
            .input_offset = 5, .output_offset = -3, .act_min = -128, .act_max = 127,
            .c_begin = 0, .c_end = l->out_c, .depth_mult = 1,
        };
        if (l->op == 'd') {
            macs = (uint32_t)(oh * ow) * (uint32_t)(l->out_c * l->k * l->k);
            MCUSIM_REGION_BEGIN(l->name);
            nn_depthwise_conv2d_s8(&p, act_in, weights, bias, mult, shift, act_out, scratch);
            MCUSIM_REGION_END(l->name);
        } else {
            macs = (uint32_t)(oh * ow) * (uint32_t)(l->out_c * l->k * l->k * l->in_c);
            MCUSIM_REGION_BEGIN(l->name);
            nn_conv2d_s8(&p, act_in, weights, bias, mult, shift, act_out, scratch);
            MCUSIM_REGION_END(l->name);
        }
    }
    printf("%s macs %lu\n", l->name, (unsigned long)macs);
    return checksum(act_out, (size_t)(oh * ow * l->out_c));
}

int main(int argc, char **argv)
{
    uint32_t rng = 0xBE7C;
    fill_int8(&rng, act_in, sizeof act_in);
    fill_requant(&rng, mult, shift, MAX_C, -9, -7);
    const int r8 = argc >= 2 && strcmp(argv[1], "resnet8") == 0;
    const layer_t *set = r8 ? resnet8_set : kernels_set;
    const int n = r8 ? (int)(sizeof resnet8_set / sizeof *set) : (int)(sizeof kernels_set / sizeof *set);
    uint32_t h = 0;
    for (int i = 0; i < n; i++)
        h ^= run_layer(&set[i]);
    printf("outputs checksum: 0x%08lx\n", (unsigned long)h);
    return 0;
}
