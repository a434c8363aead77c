/* Internal: which path is compiled, and the DSP-extension helpers.
 * NN_USE_DSP is 1 on cores with the DSP extension (M4, M7, M33) unless
 * NN_PORTABLE is defined (the tests build both paths for one core). */
#ifndef NN_DSP_H
#define NN_DSP_H

#include <stdint.h>
#include <string.h>

#if defined(__ARM_FEATURE_DSP) && __ARM_FEATURE_DSP && !defined(NN_PORTABLE)
#define NN_USE_DSP 1
#include <arm_acle.h>
#else
#define NN_USE_DSP 0
#endif

/* NN_CODE_IN_RAM: the hot loops run from RAM (.data, copied at start-up),
 * for boards whose flash wait states and line buffer would stall every
 * sequential line of code. Costs their size in static RAM. */
#ifdef NN_CODE_IN_RAM
/* The trailing "@" comments out the flags gcc appends ("ax"), so the section
 * is also writable like the rest of .data. gas still warns that .data.*
 * sections should not be executable: build with -Wa,--no-warn. */
#define NN_HOT __attribute__((section(".data.nn_ramfunc,\"awx\",%progbits @"), noinline))
#else
#define NN_HOT
#endif

#define NN_NOINLINE __attribute__((noinline))

/* Unaligned-safe word access (one LDR/STR on v7-M). */
static inline uint32_t nn_read_u32(const void *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static inline void nn_write_u32(void *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static inline int32_t nn_clamp(int32_t v, int32_t lo, int32_t hi)
{
    return v < lo ? lo : (v > hi ? hi : v);
}

#if NN_USE_DSP
/* SXTB16 / SXTAB16 with the ROR #8 folded in (gcc does not fold a C rotate). */
static inline int32_t nn_sxtb16_ror8(uint32_t x)
{
    int32_t r;
    __asm__("sxtb16 %0, %1, ror #8" : "=r"(r) : "r"(x));
    return r;
}

static inline int32_t nn_sxtab16_ror8(int32_t acc, uint32_t x)
{
    int32_t r;
    __asm__("sxtab16 %0, %1, %2, ror #8" : "=r"(r) : "r"(acc), "r"(x));
    return r;
}

/* Bytes 0,2 and 1,3 of w sign-extended to halfword pairs: the "reordered"
 * order (b0,b2),(b1,b3) that im2col columns are written in. */
static inline void nn_unpack_s8x4(uint32_t w, int32_t *even, int32_t *odd)
{
    *even = (int32_t)__sxtb16(w);
    *odd = nn_sxtb16_ror8(w);
}

/* The same with a halfword-pair offset added (SXTAB16). */
static inline void nn_unpack_s8x4_offset(uint32_t w, int32_t off2, int32_t *even, int32_t *odd)
{
    *even = (int32_t)__sxtab16((uint32_t)off2, w);
    *odd = nn_sxtab16_ror8(off2, w);
}

/* Requantisation split into a per-channel part (once per channel) and a per
 * value part, bit-exact with nn_requantize / nn_finish:
 * - when |x| < 2^30 (x = acc << left; always so for int8 convolutions in
 *   practice), SRDHM(x, m) = (2x*m + 2^31) >> 32 = SMMULR(2x, m), and
 *   RoundingDivideByPOT(h, r) = (h + 2^(r-1) - (h < 0 && r > 0)) >> r, which
 *   cannot overflow because |h| < 2^30;
 * - otherwise the general sequence of nn_requantize. */
typedef struct {
    int32_t mult, left, right, half, rmask, shift;
} nn_requant_t;

static inline nn_requant_t nn_requant_prepare(int32_t mult, int32_t shift)
{
    nn_requant_t q;
    q.mult = mult;
    q.shift = shift;
    q.left = shift & ~(shift >> 31);
    q.right = q.left - shift;
    q.half = (int32_t)((1u << q.right) >> 1);
    q.rmask = q.right > 0 ? -1 : 0;
    return q;
}

static inline int32_t nn_requant_raw(int32_t acc, const nn_requant_t *q)
{
    const int32_t x = (int32_t)((uint32_t)acc << q->left);
    if (__builtin_expect((uint32_t)x + 0x40000000u < 0x80000000u, 1)) {
        int32_t h;
        __asm__("smmulr %0, %1, %2" : "=r"(h) : "r"(x * 2), "r"(q->mult));
        return (h + q->half + ((h >> 31) & q->rmask)) >> q->right;
    }
    return nn_requantize(acc, q->mult, q->shift);
}

static inline int8_t nn_requant_apply(int32_t acc, const nn_requant_t *q, int32_t oo,
                                      int32_t lo, int32_t hi)
{
    int32_t v = nn_requant_raw(acc, q) + oo;
    v = v < lo ? lo : v;
    v = v > hi ? hi : v;
    return (int8_t)v;
}

static inline int32_t nn_pack_offset(int32_t off)
{
    return (int32_t)(((uint32_t)off & 0xFFFFu) | ((uint32_t)off << 16));
}
#endif

#endif /* NN_DSP_H */
