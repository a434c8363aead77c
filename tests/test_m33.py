"""The Cortex-M33 board (nucleo-u575zi): the usual programs, built with -mcpu=cortex-m33 and
FPv5-SP, run on Unicorn's M33 model and print exactly what their Cortex-M4F builds print; its
flash read path keeps what the ICACHE fetched."""

from __future__ import annotations

import re

import pytest

from mcusim.isa.timing import make_timing
from tests import asm
from tests.conftest import simulate

DWT_LINE = re.compile(rb"^(cycles: )\d+$", re.MULTILINE)
# The int8 kernels are compared with numpy in test_reference_runs.py; these are the others.
PROGRAMS = ["hello", "cnn_chain", "divide", "calltree", "heap_pattern", "ramfunc",
            "atexit_dtor", "recurse"]


@pytest.mark.parametrize("prog", PROGRAMS)
def test_m33_build_prints_what_the_m4_build_prints(kernels, prog):
    m33 = simulate(kernels / "nucleo-u575zi" / f"{prog}.elf", "nucleo-u575zi")
    m4 = simulate(kernels / "nucleo-f446re" / f"{prog}.elf", "nucleo-f446re")
    assert m33.result.stop == "exit", m33.result.fault
    assert m33.result.exit_code == m4.result.exit_code
    assert m33.stdout.strip(), "the program printed nothing: the comparison would prove nothing"
    # The cycle counts each program prints differ by core, board and clock; the rest must not.
    assert DWT_LINE.sub(rb"\1N", m33.stdout) == DWT_LINE.sub(rb"\1N", m4.stdout)


def _table_loop(passes: int, words: int) -> str:
    """`passes` times: read a table of `words` words that lies in flash, 16-byte aligned."""
    return (f"    movs r2, #{passes}\n    b.w outer\n    .balign 16\nouter:\n"
            "    adr r3, table\n" + "    ldr r4, [r3], #4\n" * words
            + "    subs r2, #1\n    bne.w outer\n    b.w done\n    .balign 16\ntable:\n"
            + "    .word " + ", ".join(str(i) for i in range(words)) + "\ndone:\n" + asm.EXIT_OK)


@pytest.mark.parametrize("passes", [1, 3])
def test_u575_icache_keeps_code_and_flash_data(tmp_path, passes):
    """At 160 MHz the U575's flash has 4 wait states (RM0456 range 1); the ICACHE (8 KiB, on
    as vendor start-up code leaves it) keeps every line it fetched, for instructions and for
    data read over the C-bus: a 40-word table (10 lines) misses once per line on the first
    pass only, the loop's code lines only on the first pass too."""
    runs = {}
    for n in (1, passes):
        elf = asm.build(tmp_path, _table_loop(n, 40), name=f"t{n}", cpu="cortex-m33")
        runs[n] = simulate(elf, "nucleo-u575zi", timing=make_timing("table", "cortex-m33"))
    (flash,) = runs[passes].result.flash
    assert runs[passes].result.exit_code == 0 and flash.wait_states == 4
    # 10 table lines, plus the exit code's literal 0x20026 read from flash: 11 misses of 4
    assert flash.data_stall_cycles == 11 * 4
    (once,) = runs[1].result.flash
    assert flash.fetch_stall_cycles == once.fetch_stall_cycles > 0
