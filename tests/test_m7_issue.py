"""The Cortex-M7 issue model (isa/m7_issue.py) on short sequences, one documented rule each
(isa/cycles/README.md "Cortex-M7 issue model": J7 = jnk0le's STM32H743 measurements,
LLVM-M7 = ARMScheduleM7.td)."""

from __future__ import annotations

import subprocess

import pytest

from mcusim.isa.decode import classify_block
from mcusim.isa.timing import make_timing


def _code(tmp_path, asm: str) -> bytes:
    src, obj, raw = tmp_path / "s.s", tmp_path / "s.o", tmp_path / "s.bin"
    src.write_text(".syntax unified\n.thumb\n" + asm + "\n")
    subprocess.run(["arm-none-eabi-as", "-mcpu=cortex-m7", "-mfpu=fpv5-sp-d16", str(src),
                    "-o", str(obj)], check=True, capture_output=True)
    subprocess.run(["arm-none-eabi-objcopy", "-O", "binary", str(obj), str(raw)], check=True)
    return raw.read_bytes()


def _cycles(tmp_path, asm: str) -> list[int]:
    insns = classify_block(_code(tmp_path, asm), 0x20000000)
    return make_timing("table", "cortex-m7").block_timing(insns).cycles


@pytest.mark.parametrize("asm,total", [
    # two independent ALU ops issue together (LLVM-M7 IssueWidth 2, two ALUs)
    ("add.w r0, r1, #1\nadd.w r2, r3, #1", 1),
    # the younger reads what the older writes: next cycle
    ("add.w r0, r1, #1\nadd.w r2, r0, #1", 2),
    # one store port (J7 "cannot dual issue two stores")
    ("str r0, [r1]\nstr r2, [r1, #4]", 2),
    # two loads pair when they hit different banks (J7: even and odd words) ...
    ("ldr r0, [r4]\nldr r2, [r4, #4]", 1),
    # ... and not when both hit the same bank
    ("ldr r0, [r4]\nldr r2, [r4, #8]", 2),
    # J7 operand2 matrix: two inline-shifted register operands cannot pair
    ("add.w r0, r1, r2, lsl #2\nadd.w r3, r4, r5, lsl #2", 2),
    # J7: a bitfield/DSP op pairs only as the older instruction
    ("uxtb r2, r3\nadds r0, #1", 1),
    ("adds r0, #1\nuxtb r2, r3", 2),
    # J7: multiplies do not pair with each other or with stores
    ("mul r0, r1, r2\nmul r3, r4, r5", 2),
    ("mul r0, r1, r2\nstr r3, [r4]", 2),
    # J7: LDM/STM take ceil(N/2) cycles and issue alone
    ("ldm r4, {r0-r3}", 2),
    ("ldm r4, {r0-r2}", 2),
    ("ldm r5, {r0-r4}\nadds r6, #1", 4),
    ("pop {r4, r5, pc}", 2),  # the PC is one of the three registers moved
    # a loaded word is an address two cycles after the load (LLVM-M7 LoadLatency 2) ...
    ("ldr r0, [r4]\nldr r1, [r0]", 3),
    # ... but feeds a plain ALU op the next cycle (J7 "late ALU")
    ("ldr r0, [r4]\nadds r1, r0, #1", 2),
    # byte loads have one more cycle of result latency (J7; LLVM-M7 M7SlowLoad 2)
    ("ldrb r0, [r4]\nadds r1, r0, #1", 3),
    # J7: ADD/SUB/MOV as the older op run in the early ALU: their result is an address next
    # cycle; other ALU results a cycle later (LLVM-M7 M7Read_ISS)
    ("adds r0, #1\nldr r1, [r0]", 2),
    ("eor.w r0, r0, #1\nldr r1, [r0]", 3),
    # a store may store the result of the instruction it pairs with (J7)
    ("adds r0, #1\nstr r0, [r4]", 1),
    # MOVW + MOVT pair despite the dependency (J7)
    ("movw r0, #0x1234\nmovt r0, #0x5678", 1),
    # divide: a 7-cycle stall, alone (LLVM-M7 WriteDIV)
    ("udiv r0, r1, r2\nadds r3, #1", 8),
    # VFMA accumulator chain: 3 cycles per link (J7 FPU table)
    ("vfma.f32 s4, s1, s2\nvfma.f32 s4, s1, s2", 4),
])
def test_issue_rule(tmp_path, asm, total):
    assert sum(_cycles(tmp_path, asm)) == total


def test_costs_are_gaps_between_issue_cycles(tmp_path):
    # a pair: the older costs 0 (its partner issues with it), the younger the cycle
    assert _cycles(tmp_path, "add.w r0, r1, #1\nadd.w r2, r3, #1") == [0, 1]
    # a stall is charged to the instruction before the one that waits
    assert _cycles(tmp_path, "ldr r0, [r4]\nldr r1, [r0]") == [2, 1]
