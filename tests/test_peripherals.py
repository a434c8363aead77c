"""Core peripherals read the simulator's own counters, at the reading instruction itself."""

from __future__ import annotations

import pytest

from mcusim.isa.timing import NaiveTiming
from tests import asm
from tests.conftest import simulate

RESULTS = 0x20001000

DWT_SPAN = """
    ldr r0, =0xE000EDFC      @ DEMCR.TRCENA
    ldr r1, =0x01000000
    str r1, [r0]
    ldr r0, =0xE0001000      @ DWT_CTRL.CYCCNTENA
    movs r1, #1
    str r1, [r0]
    ldr r0, =0xE0001004
    ldr r4, [r0]             @ first reading
    nop
    nop
    movs r3, #5
loop:
    subs r3, #1
    bne loop
    ldr r5, [r0]             @ second reading
    ldr r2, =0x20001000
    str r4, [r2]
    str r5, [r2, #4]
"""


def _words(run, n):
    raw = run.sim.read_memory(RESULTS, 4 * n)
    return [int.from_bytes(raw[4 * i:4 * i + 4], "little") for i in range(n)]


def test_dwt_cyccnt_counts_to_the_reading_instruction(tmp_path):
    elf = asm.build(tmp_path, DWT_SPAN + asm.EXIT_OK)
    run = simulate(elf, "nucleo-f446re", timing=NaiveTiming())
    first, second = _words(run, 2)
    # Between the readings: the first ldr, 2 nops, movs, 5 x (subs, bne) = 14 instructions.
    assert second - first == 14
    assert first == 2  # counting starts at the enabling store: it and the next ldr


@pytest.mark.parametrize("board,cpuid", [
    ("nucleo-f446re", 0x410FC241), ("nucleo-f103rb", 0x412FC231),
    ("nucleo-g071rb", 0x410CC601), ("nucleo-f746zg", 0x411FC270),
    ("nucleo-u575zi", 0x410FD214)])
def test_cpuid_names_the_core(tmp_path, board, cpuid):
    cpu = {"nucleo-g071rb": "cortex-m0plus", "nucleo-f103rb": "cortex-m3",
           "nucleo-f746zg": "cortex-m7", "nucleo-u575zi": "cortex-m33"}.get(board, "cortex-m4")
    elf = asm.build(tmp_path, """
    ldr r0, =0xE000ED00
    ldr r1, [r0]
    ldr r2, =0x20001000
    str r1, [r2]
    """ + asm.EXIT_OK, cpu=cpu)
    assert _words(simulate(elf, board), 1) == [cpuid]


def test_systick_counts_down_with_the_core_clock(tmp_path):
    elf = asm.build(tmp_path, """
    ldr r0, =0xE000E010
    ldr r1, =0x00FFFFFF
    str r1, [r0, #4]         @ RVR
    movs r1, #0
    str r1, [r0, #8]         @ CVR: clear
    movs r1, #5
    str r1, [r0]             @ CSR: ENABLE | CLKSOURCE (processor clock)
    ldr r4, [r0, #8]         @ first reading
    nop
    nop
    nop
    ldr r5, [r0, #8]         @ second reading
    ldr r2, =0x20001000
    str r4, [r2]
    str r5, [r2, #4]
    """ + asm.EXIT_OK, cpu="cortex-m0plus")
    first, second = _words(simulate(elf, "nucleo-g071rb", timing=NaiveTiming()), 2)
    assert first - second == 4  # ldr + 3 nops
    assert 0xFFFFFF - first == 1  # one instruction (the enabling str) since the reload


def test_unmodelled_peripherals_read_reset_values_and_are_listed(tmp_path):
    elf = asm.build(tmp_path, """
    ldr r0, =0x40023800      @ RCC_CR: documented reset value 0x83
    ldr r1, [r0]
    ldr r0, =0x40020000      @ GPIOA_MODER: not listed -> 0, and noted
    ldr r3, [r0]
    movs r4, #7
    str r4, [r0]             @ ignored
    ldr r5, [r0]
    ldr r2, =0x20001000
    str r1, [r2]
    str r3, [r2, #4]
    str r5, [r2, #8]
    """ + asm.EXIT_OK)
    run = simulate(elf, "nucleo-f446re")
    assert _words(run, 3) == [0x83, 0, 0]
    assert run.result.unknown_peripheral_accesses == {"0x40020000": "read"}


def test_cpacr_enable_sequence_is_modelled_not_listed(tmp_path):
    # The start-up code's FPU enable (read CPACR, set CP10/CP11, write back) is on every FPU
    # board; `-v` listed CPACR as an unmodelled register though the SCB models it.
    elf = asm.build(tmp_path, """
    ldr r0, =0xE000ED88      @ CPACR: 0 at reset
    ldr r1, [r0]
    orr r3, r1, #0x00F00000  @ CP10 and CP11 full access
    str r3, [r0]
    ldr r4, [r0]
    ldr r2, =0x20001000
    str r1, [r2]
    str r4, [r2, #4]
    """ + asm.EXIT_OK)
    run = simulate(elf, "nucleo-f446re")
    assert _words(run, 2) == [0, 0x00F00000]
    assert run.result.unknown_peripheral_accesses == {}
