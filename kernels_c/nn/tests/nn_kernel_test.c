/* Test driver for the nn kernel library (tests/test_nn_kernels.py).
 *
 *   nn_kernel_test CASES OUT   runs every case of the file CASES (written by
 *                              the test) and writes each case's output array
 *                              to OUT, through semihosting;
 *   nn_kernel_test             runs a small built-in set on LCG data and
 *                              prints checksums (the QEMU comparison of
 *                              tests/test_reference_runs.py runs it so).
 *
 * Case file, little-endian uint32 words: op, n_params, params..., n_arrays,
 * out_index, then per array: n_bytes, bytes padded to 4. op 0 ends the file.
 * An array of 0 bytes is passed as NULL. Op numbers: the enum below
 * (tests/test_nn_kernels.py mirrors it). */
#include <stdio.h>
#include <string.h>

#include "nn_kernels.h"
#include "test_util.h"

enum {
    OP_END, OP_CONV, OP_DW, OP_AVGPOOL, OP_MAXPOOL, OP_PW_ACC, OP_REQ_ACC, OP_FC,
    OP_ADD, OP_SOFTMAX, OP_PAD, OP_MEAN, OP_QUANT, OP_DEQUANT, OP_REQUANT, OP_PW_SPLIT,
};

#define ARENA_BYTES 6144
#define MAX_ARRAYS 8
#define MAX_PARAMS 32

static uint32_t arena[ARENA_BYTES / 4];
static int32_t params[MAX_PARAMS];
static void *arrays[MAX_ARRAYS];
static uint32_t sizes[MAX_ARRAYS];

static int read_u32(FILE *f, uint32_t *v)
{
    return fread(v, 4, 1, f) == 1;
}

/* Reads one case; returns its op (OP_END at the end, -1 on error). */
static int read_case(FILE *f, uint32_t *out_index)
{
    uint32_t op, n, na, used = 0;
    if (!read_u32(f, &op))
        return -1;
    if (op == OP_END)
        return OP_END;
    if (!read_u32(f, &n) || n > MAX_PARAMS || fread(params, 4, n, f) != n)
        return -1;
    if (!read_u32(f, &na) || na > MAX_ARRAYS || !read_u32(f, out_index))
        return -1;
    for (uint32_t i = 0; i < na; i++) {
        uint32_t bytes, words;
        if (!read_u32(f, &bytes))
            return -1;
        words = (bytes + 3) / 4;
        if (used + words > ARENA_BYTES / 4)
            return -1;
        sizes[i] = bytes;
        arrays[i] = bytes ? &arena[used] : NULL;
        if (words && fread(&arena[used], 4, words, f) != words)
            return -1;
        used += words;
    }
    return (int)op;
}

static int run_case(int op)
{
    void **a = arrays;
    const nn_conv_params_t *cp = (const nn_conv_params_t *)params;
    const int np = (int)(sizeof(nn_conv_params_t) / 4);
    switch (op) {
    case OP_CONV:
        nn_conv2d_s8(cp, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        return 0;
    case OP_DW:
        nn_depthwise_conv2d_s8(cp, a[0], a[1], a[2], a[3], a[4], a[5], a[6]);
        return 0;
    case OP_AVGPOOL:
        nn_avg_pool_s8(cp, a[0], a[1]);
        return 0;
    case OP_MAXPOOL:
        nn_max_pool_s8(cp, a[0], a[1]);
        return 0;
    case OP_PW_ACC:
        nn_pointwise_acc_s8(cp, a[0], a[1], a[2], a[3], params[np], a[4]);
        return 0;
    case OP_REQ_ACC:
        nn_requantize_acc_s8(cp, a[0], params[np], a[1], a[2], a[3]);
        return 0;
    case OP_FC:
        nn_fully_connected_s8((const nn_fc_params_t *)params, a[0], a[1], a[2], a[3], a[4], a[5]);
        return 0;
    case OP_ADD:
        nn_add_s8((const nn_add_params_t *)params, a[0], a[1], a[2]);
        return 0;
    case OP_SOFTMAX:
        nn_softmax_s8((const nn_softmax_params_t *)params, a[0], a[1]);
        return 0;
    case OP_PAD:
        nn_pad_s8((const nn_pad_params_t *)params, a[0], a[1]);
        return 0;
    case OP_MEAN:
        nn_mean_hw_s8((const nn_mean_params_t *)params, a[0], a[1]);
        return 0;
    case OP_QUANT: {
        float scale;
        memcpy(&scale, &params[1], 4);
        nn_quantize_f32_s8(a[0], params[0], scale, params[2], a[1]);
        return 0;
    }
    case OP_DEQUANT: {
        float scale;
        memcpy(&scale, &params[1], 4);
        nn_dequantize_s8_f32(a[0], params[0], scale, params[2], a[1]);
        return 0;
    }
    case OP_REQUANT:
        nn_requantize_s8_s8(a[0], params[0], params[1], params[2], params[3], params[4], a[1]);
        return 0;
    case OP_PW_SPLIT: {
        /* Partial execution: the input-channel slices params[np+1..] of a full
         * input accumulated in int32, then one requantisation. */
        nn_conv_params_t q = *cp;
        const int ns = params[np];
        for (int i = 0; i < ns; i++) {
            q.ic_begin = params[np + 1 + i];
            q.ic_end = params[np + 2 + i];
            nn_pointwise_acc_s8(&q, (const int8_t *)a[0] + q.ic_begin, a[1], a[2], a[5], i == 0, a[7]);
        }
        nn_requantize_acc_s8(&q, a[5], q.out_stride, a[3], a[4], a[6]);
        return 0;
    }
    default:
        return -1;
    }
}

static int run_file(const char *cases, const char *out_path)
{
    FILE *in = fopen(cases, "rb"), *out = fopen(out_path, "wb");
    if (!in || !out) {
        printf("cannot open %s or %s\n", cases, out_path);
        return 2;
    }
    int n = 0;
    for (;;) {
        uint32_t oi;
        int op = read_case(in, &oi);
        if (op == OP_END)
            break;
        if (op < 0 || oi >= MAX_ARRAYS || run_case(op) != 0) {
            printf("bad case %d\n", n);
            return 3;
        }
        uint32_t bytes = sizes[oi], words = (bytes + 3) / 4;
        fwrite(&bytes, 4, 1, out);
        fwrite(arrays[oi], 4, words, out);
        n++;
    }
    fclose(in);
    fclose(out);
    printf("nn_kernel_test: %d cases\n", n);
    return 0;
}

/* Built-in smoke set: 5x6x8 -> 5x6x6 3x3 conv, 3x3 depthwise, FC. */
static int run_builtin(void)
{
    static int8_t in[5 * 6 * 8], filt[6 * 9 * 8], out[5 * 6 * 8];
    static int32_t bias[8], mult[8], shift[8];
    static int16_t scratch[8 * 72];
    uint32_t rng = 0x1234;
    fill_int8(&rng, in, sizeof in);
    fill_int8(&rng, filt, sizeof filt);
    fill_int32(&rng, bias, 8, 2000);
    fill_requant(&rng, mult, shift, 8, -9, -7);
    nn_conv_params_t p = {
        .in_h = 5, .in_w = 6, .in_c = 8, .in_stride = 8, .out_h = 5, .out_w = 6, .out_c = 6,
        .out_stride = 6, .k_h = 3, .k_w = 3, .stride_h = 1, .stride_w = 1, .dilation_h = 1,
        .dilation_w = 1, .pad_top = 1, .pad_left = 1, .input_offset = 3, .output_offset = -2,
        .act_min = -128, .act_max = 127, .c_begin = 0, .c_end = 6, .depth_mult = 1,
    };
    nn_conv2d_s8(&p, in, filt, bias, mult, shift, out, scratch);
    report("conv", out, 5 * 6 * 6, 0);
    p.out_c = p.c_end = p.out_stride = 8;
    nn_depthwise_conv2d_s8(&p, in, filt, bias, mult, shift, out, NULL);
    report("depthwise", out, 5 * 6 * 8, 0);
    nn_fc_params_t f = {
        .batches = 1, .in_features = 64, .out_features = 7, .out_stride = 7,
        .input_offset = -1, .output_offset = 4, .act_min = -100, .act_max = 127,
        .c_begin = 0, .c_end = 7, .per_channel = 1,
    };
    nn_fully_connected_s8(&f, in, filt, bias, mult, shift, out);
    report("fc", out, 7, 0);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3)
        return run_file(argv[1], argv[2]);
    return run_builtin();
}
