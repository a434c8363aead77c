/*
 * ub_dsp.S - ARMv7E-M DSP/SIMD tests (M4, M7). Expected cycles: expected.toml.
 */
#include "ub_asm.h"

#if UB_DSP

UB_FUNC dsp_mac_x8              @ 16-bit and 32-bit multiplies and MACs, independent
    ldr r4, =0x00030005
    ldr r5, =0x00070002
    movs r6, #1
    UB_START
    smulbb r3, r4, r5
    smlabb r7, r4, r5, r6
    smlad r8, r4, r5, r6
    smuad r9, r4, r5
    smlatt r10, r4, r5, r6
    smlsd r11, r4, r5, r6
    smulwb r12, r4, r5
    smmul r3, r4, r5
    UB_STOP
    UB_RET dsp_mac_x8

UB_FUNC dsp_simd_x8             @ SIMD add/sub, saturation, packing/extension
    ldr r4, =0x7F80017F
    ldr r5, =0x01020304
    UB_START
    sadd16 r3, r4, r5
    uadd8 r6, r4, r5
    qadd r7, r4, r5
    qsub16 r8, r4, r5
    ssat r9, #16, r4
    usat r10, #8, r4
    sxtb16 r11, r4
    uxtab r12, r4, r5
    UB_STOP
    UB_RET dsp_simd_x8

#endif /* UB_DSP */
