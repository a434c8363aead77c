/*
 * ub_fpu.S - single-precision FPU tests (M4F, M7F). Expected cycles:
 * expected.toml. Only s0-s15 are clobbered (s16-s19 are pushed and popped
 * by vpush_vpop_n4 and so preserved).
 */
#include "ub_asm.h"

#if UB_FPU

/* s0 = 1.0, s1 = 2.0, s2 = 3.0, s3 = 0.5 */
.macro UB_FP_SETUP
    vmov.f32 s0, #1.0
    vmov.f32 s1, #2.0
    vmov.f32 s2, #3.0
    vmov.f32 s3, #0.5
.endm

UB_FUNC vadd_x8                 @ independent
    UB_FP_SETUP
    UB_START
    vadd.f32 s4, s0, s1
    vadd.f32 s5, s0, s2
    vadd.f32 s6, s1, s2
    vadd.f32 s7, s0, s3
    vsub.f32 s8, s1, s0
    vsub.f32 s9, s2, s0
    vadd.f32 s10, s2, s3
    vadd.f32 s11, s1, s3
    UB_STOP
    UB_RET vadd_x8

UB_FUNC vmul_x8                 @ independent
    UB_FP_SETUP
    UB_START
    vmul.f32 s4, s0, s1
    vmul.f32 s5, s0, s2
    vmul.f32 s6, s1, s2
    vmul.f32 s7, s0, s3
    vmul.f32 s8, s1, s3
    vmul.f32 s9, s2, s3
    vmul.f32 s10, s2, s2
    vmul.f32 s11, s1, s1
    UB_STOP
    UB_RET vmul_x8

UB_FUNC vcvt_x4                 @ float -> int and int -> float, independent
    UB_FP_SETUP
    UB_START
    vcvt.s32.f32 s4, s1
    vcvt.u32.f32 s5, s2
    vcvt.f32.s32 s6, s0
    vcvt.f32.u32 s7, s3
    UB_STOP
    UB_RET vcvt_x4

UB_FUNC vmla_x4                 @ chained on the accumulator s4
    UB_FP_SETUP
    vmov.f32 s4, s0
    UB_START
    vmla.f32 s4, s1, s2
    vmla.f32 s4, s1, s2
    vmla.f32 s4, s1, s2
    vmla.f32 s4, s1, s2
    UB_STOP
    UB_RET vmla_x4

UB_FUNC vfma_x4                 @ chained on the accumulator s4
    UB_FP_SETUP
    vmov.f32 s4, s0
    UB_START
    vfma.f32 s4, s1, s2
    vfma.f32 s4, s1, s2
    vfma.f32 s4, s1, s2
    vfma.f32 s4, s1, s2
    UB_STOP
    UB_RET vfma_x4

/* Two dependent divisions, then a VADD that needs the quotient: the VADD
 * keeps the window open until the second VDIV has finished (integer
 * instructions after a VDIV may otherwise complete under it). */
UB_FUNC vdiv_x2
    UB_FP_SETUP
    UB_START
    vdiv.f32 s4, s2, s1
    vdiv.f32 s5, s4, s1
    vadd.f32 s6, s5, s5
    UB_STOP
    UB_RET vdiv_x2

UB_FUNC vsqrt_x2
    UB_FP_SETUP
    UB_START
    vsqrt.f32 s4, s2
    vsqrt.f32 s5, s4
    vadd.f32 s6, s5, s5
    UB_STOP
    UB_RET vsqrt_x2

UB_FUNC vldr_alu_x4             @ each VLDR followed by an integer ALU op
    ldr r4, =ub_buf
    movs r5, #0
    UB_START
    vldr s4, [r4, #0]
    adds r5, r5, #1
    vldr s5, [r4, #4]
    adds r5, r5, #1
    vldr s6, [r4, #8]
    adds r5, r5, #1
    vldr s7, [r4, #12]
    adds r5, r5, #1
    UB_STOP
    UB_RET vldr_alu_x4

UB_FUNC vstr_alu_x4             @ each VSTR followed by an integer ALU op
    UB_FP_SETUP
    ldr r4, =ub_buf
    movs r5, #0
    UB_START
    vstr s0, [r4, #0]
    adds r5, r5, #1
    vstr s1, [r4, #4]
    adds r5, r5, #1
    vstr s2, [r4, #8]
    adds r5, r5, #1
    vstr s3, [r4, #12]
    adds r5, r5, #1
    UB_STOP
    UB_RET vstr_alu_x4

UB_FUNC vldm_n4
    ldr r4, =ub_buf
    UB_START
    vldmia r4, {s4-s7}
    UB_STOP
    UB_RET vldm_n4

UB_FUNC vpush_vpop_n4
    UB_START
    vpush {s16-s19}
    vpop {s16-s19}
    UB_STOP
    UB_RET vpush_vpop_n4

UB_FUNC vmov_to_fp_x4           @ core -> FP register, independent
    movs r3, #1
    movs r5, #2
    movs r6, #3
    movs r7, #4
    UB_START
    vmov s4, r3
    vmov s5, r5
    vmov s6, r6
    vmov s7, r7
    UB_STOP
    UB_RET vmov_to_fp_x4

UB_FUNC vmov_to_core_x4         @ FP -> core register, independent
    UB_FP_SETUP
    UB_START
    vmov r3, s0
    vmov r5, s1
    vmov r6, s2
    vmov r7, s3
    UB_STOP
    UB_RET vmov_to_core_x4

#endif /* UB_FPU */
