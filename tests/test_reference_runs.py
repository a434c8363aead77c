"""Reference runs: kernel outputs equal a numpy reference bit for bit, and every program built
for mps2-an386 (Cortex-M4) and mps2-an505 (Cortex-M33) behaves under mcusim exactly as under
QEMU's machine of the same name."""

from __future__ import annotations

import re
import subprocess

import numpy as np
import pytest

from tests import int8_ref
from tests.conftest import BUILD, ROOT, simulate

KERNEL_PROGRAMS = ["conv3x3", "conv1x1", "dwconv3x3", "fc", "avgpool", "maxpool"]
# One board per core family the kernels are built for.
KERNEL_BOARDS = ["mps2-an386", "nucleo-g071rb", "nucleo-f103rb", "nucleo-f746zg", "nucleo-u575zi"]


@pytest.mark.parametrize("board", KERNEL_BOARDS)
@pytest.mark.parametrize("prog", KERNEL_PROGRAMS)
def test_kernel_output_matches_numpy(kernels, prog, board):
    run = simulate(kernels / board / f"{prog}.elf", board)
    assert run.result.exit_code == 0, run.stdout
    expected, actual = getattr(int8_ref, f"check_{prog}")(run.sim.read_symbol)
    assert expected.shape == actual.shape
    assert expected.size > 0
    np.testing.assert_array_equal(actual, expected)
    # The output must not be trivially constant, or the comparison proves little.
    assert len(np.unique(actual)) > 4


# Boards with the memory map of a QEMU machine of the same name.
QEMU_BOARDS = ["mps2-an386", "mps2-an505"]


def _mps2_programs() -> list[tuple[str, str]]:
    runs = [(board, p.stem) for board in QEMU_BOARDS for p in sorted((BUILD / board).glob("*.elf"))]
    return runs or [("mps2-an386", "(not built)")]


DWT_LINE = re.compile(rb"^(cycles: )\d+$", re.MULTILINE)


def _mask_cycles(out: bytes) -> bytes:
    # QEMU does not model DWT_CYCCNT (it reads 0), so compare those lines without the number.
    return DWT_LINE.sub(rb"\1N", out)


def _qemu(machine: str, elf, argv: list[str]) -> subprocess.CompletedProcess:
    config = ",".join(["enable=on", "target=native", *(f"arg={a}" for a in argv)])
    return subprocess.run(
        ["qemu-system-arm", "-M", machine, "-nographic", "-monitor", "none",
         "-serial", "stdio", "-semihosting-config", config, "-kernel", str(elf)],
        cwd=ROOT, capture_output=True, timeout=300, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(("board", "prog"), _mps2_programs())
def test_mcusim_agrees_with_qemu(kernels, board, prog):
    elf = kernels / board / f"{prog}.elf"
    argv = [f"{prog}.elf", "alpha", "beta gamma"] if prog == "hello" else [f"{prog}.elf"]
    qemu = _qemu(board, elf, argv)
    run = simulate(elf, board, argv=argv)
    assert run.result.stop == "exit", run.result.fault
    assert run.result.exit_code == qemu.returncode, (qemu.stdout, qemu.stderr)
    assert _mask_cycles(run.stdout) == _mask_cycles(qemu.stdout)
    assert run.stdout.strip(), "the program printed nothing: the comparison would prove nothing"
