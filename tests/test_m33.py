"""The Cortex-M33 board (nucleo-u575zi): the usual programs, built with -mcpu=cortex-m33 and
FPv5-SP, run on Unicorn's M33 model and print exactly what their Cortex-M4F builds print."""

from __future__ import annotations

import re

import pytest

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
