"""Flash wait states and the STM32F4 ART accelerator, against hand-derived counts.

Each program runs on stm32f4-discovery at 168 MHz (5 wait states, RM0090 table 11) and at
16 MHz (0 wait states); the difference in cycles is the flash's alone. The expected values
follow the documented rules (memory/FLASH_TIMING.md): 16-byte lines; with prefetch a line read
in sequence stalls by max(0, WS + 1 - cycles spent in the previous line); a branch to a line
not in the instruction cache (a branch cache that keeps lines read on a miss) costs WS; a data
read from a line not in the 8-line data cache costs WS.
"""

from __future__ import annotations

import random

import pytest
import unicorn.arm_const as arm

from mcusim.isa.timing import make_timing
from tests import asm
from tests.conftest import simulate

WS = 5
EXIT = """
    movs r0, #0x18
    ldr r1, =0x20026
    bkpt 0xab
"""


def _flash_cycles(tmp_path, body: str) -> int:
    elf = asm.build(tmp_path, body)
    timing = make_timing("table", "cortex-m4")
    fast = simulate(elf, "stm32f4-discovery", timing=timing).result
    slow = simulate(elf, "stm32f4-discovery", clock="16MHz",
                    timing=make_timing("table", "cortex-m4")).result
    assert fast.exit_code == slow.exit_code == 0
    assert fast.instructions == slow.instructions
    return fast.cycles - slow.cycles


def test_straight_line_wide_code_stalls_with_prefetch(tmp_path):
    body = "    b.w start\n    .balign 16\nstart:\n" + "    add.w r0, r0, #1\n" * 32 + EXIT
    # reset's line: a miss (WS); start's line, reached by a branch: a miss (WS); 7 more lines
    # of four 1-cycle 32-bit instructions: WS + 1 - 4 = 2 each; the exit code's line after a
    # 4-cycle line: 2; the literal 0x20026 read from flash: a data-cache miss (WS).
    assert _flash_cycles(tmp_path, body) == WS + WS + 7 * 2 + 2 + WS


def test_straight_line_narrow_code_hides_wait_states(tmp_path):
    body = "    b.w start\n    .balign 16\nstart:\n" + "    adds r0, #1\n" * 64 + EXIT
    # Eight 1-cycle 16-bit instructions per line cover the 6-cycle line read entirely.
    assert _flash_cycles(tmp_path, body) == WS + WS + WS


def test_branch_cache_keeps_loop_heads(tmp_path):
    body = ("    movs r2, #10\n    b.w loop\n    .balign 16\nloop:\n"
            + "    add.w r0, r0, #1\n" * 8 + "    subs r2, #1\n    bne.w loop\n" + EXIT)
    # reset line: WS. Loop: line A (4 add.w), line B (4 add.w), line C (subs, bne.w, exit
    # code). First iteration: A missed by the branch (WS), B in sequence (2), C in sequence
    # (WS + 1 - 4 = 2). Later iterations: A hits the branch cache (0), B and C stream (2 + 2).
    # After the loop, falling through into C's remaining code costs nothing; the literal: WS.
    assert _flash_cycles(tmp_path, body) == WS + (WS + 2 + 2) + 9 * (2 + 2) + WS


@pytest.mark.parametrize("words,passes,misses", [(8, 1, 2), (8, 3, 2), (40, 2, 20)])
def test_data_cache_keeps_constant_lines(tmp_path, words, passes, misses):
    """Reading a table of `words` words from flash `passes` times: each 16-byte line misses
    once while the table fits the 8-line data cache (128 bytes); a 160-byte table cycles
    through more lines than LRU keeps, so every line misses on every pass."""
    body = (f"    movs r2, #{passes}\n    b.w outer\n    .balign 16\nouter:\n"
            "    adr r3, table\n" + "    ldr r4, [r3], #4\n" * words
            + "    subs r2, #1\n    bne.w outer\n    b.w done\n    .balign 16\ntable:\n"
            + "    .word " + ", ".join(str(i) for i in range(words)) + "\ndone:\n" + EXIT)
    elf = asm.build(tmp_path, body)
    run = simulate(elf, "stm32f4-discovery", timing=make_timing("table", "cortex-m4"))
    (flash,) = run.result.flash
    assert flash.wait_states == WS
    # The literal 0x20026 of the exit code is one more data miss.
    assert flash.data_stall_cycles == (misses + 1) * WS


@pytest.mark.parametrize("path", [{"native": False, "batched": False}, {"native": False},
                                  {"native": None}])
def test_unaligned_flash_reads_give_the_bytes_and_the_bus_reads(tmp_path, path):
    """Data reads of flash go through an MMIO alias (sim/devices/flash_data.py): unaligned
    reads must still return the right bytes, and are timed as the aligned reads the bus makes:
    a word read across a 16-byte line touches both lines."""
    body = ("    adr r3, table\n    ldr r4, [r3, #1]\n    ldrh r5, [r3, #7]\n"
            "    ldr r6, [r3, #14]\n    ldrd r7, r8, [r3, #32]\n    b.w done\n    .balign 16\n"
            "table:\n    .byte " + ", ".join(str(i) for i in range(48)) + "\ndone:\n" + EXIT)
    elf = asm.build(tmp_path, body)
    run = simulate(elf, "stm32f4-discovery", timing=make_timing("table", "cortex-m4"), **path)
    assert run.result.exit_code == 0
    got = [run.sim.uc.reg_read(r) for r in (arm.UC_ARM_REG_R4, arm.UC_ARM_REG_R5,
                                            arm.UC_ARM_REG_R6, arm.UC_ARM_REG_R7)]
    assert got == [0x04030201, 0x0807, 0x11100F0E, 0x23222120]
    # Lines 0, 1 (the word at 14 spans lines 0 and 1; line 0 is current, then 1 misses) and 2,
    # plus the literal of the exit code.
    (flash,) = run.result.flash
    assert flash.data_stall_cycles == 4 * WS


def _stalls_line_by_line(flash, addresses: list[int], cycles: list[int]) -> list[int]:
    """The sequential-stall rule as the module docstring states it, each instruction's line
    looked up on its own: what sequential_stalls computes by arithmetic per block."""
    stalls, spent, prev = [], 0, flash.line_of(addresses[0])
    for address, c in zip(addresses, cycles, strict=True):
        line = flash.line_of(address)
        stall = 0
        if line != prev:
            stall = max(flash.ws + 1 - spent, 0) if flash.prefetch else flash.ws
            spent, prev = 0, line
        stalls.append(stall)
        spent += c
    return stalls


@pytest.mark.parametrize("board,clock", [("stm32f4-discovery", None), ("nucleo-f103rb", None),
                                         ("nucleo-g071rb", None), ("nucleo-f746zg", None)])
def test_block_stalls_match_the_rule_line_by_line(board, clock):
    """Random blocks of 16- and 32-bit instructions with 0- to 3-cycle costs, in the flash's
    base window and its aliases, with and without prefetch."""
    from mcusim.memory.board import load_board
    from mcusim.memory.flash import FlashInterface

    spec = load_board(board, clock)
    (region,) = [r for r in spec.regions if r.kind == "flash"]
    rng = random.Random(board)
    for prefetch in (True, False):
        flash = FlashInterface(region, spec.clock_hz)
        flash.prefetch = prefetch
        flash.fills_all = False  # (the Cortex-M7 L1 looks lines up per execution instead)
        flash.ws = flash.ws or 2  # (a board run at 0 wait states: the rule still applies)
        for _ in range(300):
            lo, _hi = rng.choice(list(region.windows()))
            address = lo + 2 * rng.randrange(region.size // 2 - 2000)
            addresses = []
            for _ in range(rng.choice((1, 2, 7, 40, 300))):
                addresses.append(address)
                address += rng.choice((2, 2, 4))
            cycles = [rng.choice((0, 1, 1, 1, 2, 3)) for _ in addresses]
            assert (flash.sequential_stalls(addresses, cycles)
                    == _stalls_line_by_line(flash, addresses, cycles))
