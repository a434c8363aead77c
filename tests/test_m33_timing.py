"""Cortex-M33 timing rules on short sequences, each one of jnk0le's RP2350 measurements (J33,
isa/cycles/README.md "M33"); the sequences with comments are J33's own examples."""

from __future__ import annotations

import subprocess

import pytest

from mcusim.isa.decode import classify_block
from mcusim.isa.timing import make_timing


def _timing(tmp_path, asm: str):  # noqa: ANN202 - a BlockTiming
    src, obj, raw = tmp_path / "s.s", tmp_path / "s.o", tmp_path / "s.bin"
    src.write_text(".syntax unified\n.thumb\n" + asm + "\n")
    subprocess.run(["arm-none-eabi-as", "-mcpu=cortex-m33", "-mfpu=fpv5-sp-d16", str(src),
                    "-o", str(obj)], check=True, capture_output=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(obj), str(raw)], check=True)
    insns = classify_block(raw.read_bytes(), 0x20000000)
    return make_timing("table", "cortex-m33").block_timing(insns)


@pytest.mark.parametrize("asm,not_taken,taken", [
    # "subs r7, #1 // 1 cycle (must be .n); bne 1b // 2 cycles taken, 0 not taken"
    ("1: subs r7, #1\nbne.n 1b", 1, 3),
    # "subs r7, #1; add r0, r1 (must be .n); bne 1b // 1 cycles taken, 0 not taken"
    ("1: subs r7, #1\nadd r0, r1\nbne.n 1b", 2, 3),
    # "ldmia r6!, {r0-r3} // 4 cycles (must be .n); bne 1b // 1 cycle taken, 0 not taken"
    ("1: subs r7, #1\nldmia r6!, {r0-r3}\nbne.n 1b", 5, 6),
    # a 32-bit instruction before the branch: no pair, 1 not taken, 1 + P taken
    ("1: subs.w r7, r7, #1\nbne.n 1b", 2, 3),
])
def test_branch_pairs_with_the_16bit_instruction_before(tmp_path, asm, not_taken, taken):
    t = _timing(tmp_path, asm)
    assert sum(t.cycles) == not_taken
    assert sum(t.cycles) + t.taken_extra == taken


@pytest.mark.parametrize("asm,total", [
    # a taken B after a 16-bit instruction that sets no flags is "effectively ... 1 cycle"
    ("mov r8, r8\nb.n 1f\n1:", 2),
    ("adds r0, #1\nb.n 1f\n1:", 3),
    # "it can dual issue with preceding instruction" (a 16-bit one: only those pair) ...
    ("cmp r0, #0\nit eq\nmoveq r1, #1", 2),
    # ... not after a 32-bit one
    ("cmp.w r0, #0\nit eq\nmoveq r1, #1", 3),
    # an instruction that pairs as the younger is not the older of another pair
    ("cmp r0, #0\nit eq\nbeq.n 1f\n1:", 2),
    # "muls.n (no .w equivalent) ... take a total of 2 cycles"; MUL.W 1
    ("muls r0, r1, r0", 2),
    ("mul.w r0, r1, r0", 1),
    # "FMA/MLA execute in 1 cycle ... No other floating point instruction can be issued in
    # the following 2 cycles"; J33's example fills them with integer instructions
    ("vfma.f32 s0, s1, s2\nmov r10, r10\nmov r10, r10\nvfma.f32 s0, s1, s0", 4),
    ("vfma.f32 s0, s1, s2\nvfma.f32 s0, s1, s0", 4),
    ("vmla.f32 s0, s1, s2\nvadd.f32 s3, s4, s5\nadds r0, #1", 5),
    # "load to use latency is 2 cycles" (address or ALU use); store data does not wait
    ("ldr r0, [r4]\nadds r1, r0, #1", 3),
    ("ldr r0, [r4]\nstr r0, [r5]", 2),
    # "load result can be consumed as MAC accumulate dependency in 1 cycle" ...
    ("ldr r0, [r4]\nmla r1, r2, r3, r0", 2),
    ("ldr r0, [r4]\nmla r1, r0, r3, r2", 3),
    # ... "(*xta* or operand2 shifted insns, cannot consume like that)"
    ("ldr r0, [r4]\nuxtab r1, r0, r2", 3),
    # "multiply accumulates have 2 cycle result latency, accumulate dependency can be chained"
    ("mla r0, r1, r2, r3\nmla r4, r5, r6, r0", 2),
    ("mla r0, r1, r2, r3\nmla r4, r0, r6, r3", 3),
    ("smlad r0, r1, r2, r0\nsmlad r0, r1, r2, r0", 2),
    ("umlal r0, r1, r2, r3\numlal r0, r1, r4, r5", 2),
    ("umlal r0, r1, r2, r3\nadds r4, r0, #1", 3),
    # "can store result from 'accumulate' stage in 1 cycle"; an address waits
    ("mla r0, r1, r2, r3\nstr r0, [r4]", 2),
    ("mla r0, r1, r2, r3\nstr r4, [r0]", 3),
    # "result latency of operand2 shifted reg/constant, instructions is 2 cycles"; chained
    # into a MAC's accumulator; simple and pattern constants and shift instructions are 1
    ("add.w r0, r1, r2, ror #24\nadds r3, r0, #1", 3),
    ("eor.w r0, r1, #0x1fc0\nadds r3, r0, #1", 3),
    ("eor.w r0, r1, #0x1fc0\nmla r3, r4, r5, r0", 2),
    ("add.w r0, r1, #0xff\nadds r3, r0, #1", 2),
    ("eor.w r0, r1, #0x1b1b1b1b\nadds r3, r0, #1", 2),
    ("lsl.w r0, r1, #2\nadds r3, r0, #1", 2),
    # "{u,x}xta{b,h,b16} have 2 cycle result latency, accumulate dependency can be chained"
    ("uxtab r0, r1, r2\nuxtab r0, r0, r2", 2),
    ("uxtab r0, r1, r2\nuxtab r3, r1, r0", 3),
    # flag-setting shifted constants "take a total of 2 cycles"; not MOVS.W, not shifted regs
    ("ands.w r0, r1, #0x1fc0", 2),
    ("and.w r0, r1, #0x1fc0", 1),
    ("movs.w r0, #0x1fc0", 1),
    ("adds.w r0, r1, r2, lsl #3", 1),
])
def test_m33_rule(tmp_path, asm, total):
    assert sum(_timing(tmp_path, asm).cycles) == total
