/* cnn_chain: a small int8 CNN, one region marker per layer:
 *   8x8x4 -conv3x3-> 8x8x8 -dwconv3x3-> 8x8x8 -conv1x1-> 8x8x16
 *   -avgpool 2x2/2-> 4x4x16 -fc-> 10
 * Activations live in malloc'd buffers freed as soon as the next layer is
 * done (so the heap high-water mark is two live activations). */
#include <stdio.h>
#include <stdlib.h>

#include "int8_kernels.h"
#include "mcusim.h"
#include "test_util.h"

#define H 8
#define W 8
#define C0 4
#define C1 8
#define C2 16
#define PH 4
#define PW 4
#define N_FC_IN (PH * PW * C2)
#define N_CLASSES 10

/* One layer's weights + requantisation; filled from the LCG at start-up. */
struct layer {
    int8_t *w;
    int32_t *bias, *mult, *shift;
};

static int8_t w_conv[C1 * 3 * 3 * C0], w_dw[3 * 3 * C1], w_pw[C2 * C1];
static int8_t w_fc[N_CLASSES * N_FC_IN];
/* [0] bias, [1] mult, [2] shift */
static int32_t q_conv[3][C1], q_dw[3][C1], q_pw[3][C2], q_fc[3][N_CLASSES];

static const int8_conv_params_t p_conv = {
    H, W, C0, H, W, C1, 3, 3, 1, 1, 1, 1, 2, -5, -128, 127};
static const int8_conv_params_t p_dw = {
    H, W, C1, H, W, C1, 3, 3, 1, 1, 1, 1, 5, 0, -128, 127};
static const int8_conv_params_t p_pw = {
    H, W, C1, H, W, C2, 1, 1, 1, 1, 0, 0, 0, -2, -128, 127};
static const int8_conv_params_t p_pool = {
    H, W, C2, PH, PW, C2, 2, 2, 2, 2, 0, 0, 0, 0, -128, 127};
static const int8_fc_params_t p_fc = {N_FC_IN, N_CLASSES, 2, 0, -128, 127};

static void init_layer(uint32_t *rng, struct layer *l, int8_t *w, size_t nw,
                       size_t n_out, int32_t shift_lo)
{
    l->w = w;
    fill_int8(rng, w, nw);
    fill_int32(rng, l->bias, n_out, 2000);
    fill_requant(rng, l->mult, l->shift, n_out, shift_lo, shift_lo + 1);
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        printf("cnn_chain: out of memory\n");
        exit(1);
    }
    return p;
}

int main(void)
{
    uint32_t rng = 0xC4A1;
    struct layer conv = {0, q_conv[0], q_conv[1], q_conv[2]};
    struct layer dw = {0, q_dw[0], q_dw[1], q_dw[2]};
    struct layer pw = {0, q_pw[0], q_pw[1], q_pw[2]};
    struct layer fc = {0, q_fc[0], q_fc[1], q_fc[2]};
    init_layer(&rng, &conv, w_conv, sizeof w_conv, C1, -10);
    init_layer(&rng, &dw, w_dw, sizeof w_dw, C1, -9);
    init_layer(&rng, &pw, w_pw, sizeof w_pw, C2, -9);
    init_layer(&rng, &fc, w_fc, sizeof w_fc, N_CLASSES, -8);

    int8_t *a0 = xmalloc(H * W * C0);
    fill_int8(&rng, a0, H * W * C0);

    mcusim_cycles_init();
    uint32_t t0 = mcusim_cycles();

    int8_t *a1 = xmalloc(H * W * C1);
    MCUSIM_REGION_BEGIN("conv3x3");
    int8_conv2d(&p_conv, a0, conv.w, conv.bias, conv.mult, conv.shift, a1);
    MCUSIM_REGION_END("conv3x3");
    free(a0);

    int8_t *a2 = xmalloc(H * W * C1);
    MCUSIM_REGION_BEGIN("dwconv3x3");
    int8_dwconv3x3(&p_dw, a1, dw.w, dw.bias, dw.mult, dw.shift, a2);
    MCUSIM_REGION_END("dwconv3x3");
    free(a1);

    int8_t *a3 = xmalloc(H * W * C2);
    MCUSIM_REGION_BEGIN("conv1x1");
    int8_conv1x1(&p_pw, a2, pw.w, pw.bias, pw.mult, pw.shift, a3);
    MCUSIM_REGION_END("conv1x1");
    free(a2);

    int8_t *a4 = xmalloc(N_FC_IN);
    MCUSIM_REGION_BEGIN("avgpool");
    int8_avgpool(&p_pool, a3, a4);
    MCUSIM_REGION_END("avgpool");
    free(a3);

    int8_t logits[N_CLASSES];
    MCUSIM_REGION_BEGIN("fc");
    int8_fc(&p_fc, a4, fc.w, fc.bias, fc.mult, fc.shift, logits);
    MCUSIM_REGION_END("fc");
    free(a4);

    uint32_t t1 = mcusim_cycles();

    printf("logits:");
    for (int i = 0; i < N_CLASSES; i++)
        printf(" %d", logits[i]);
    printf("\n");
    report("cnn_chain", logits, sizeof logits, t1 - t0);
    return 0;
}
