"""The register ids in isa/arm_regs.py are capstone's, and importing the engine and the cycle
models does not load capstone (it is loaded when an instruction needs it: start-up time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from capstone import arm_const as A

from mcusim.isa import arm_regs


def test_register_ids_are_capstones() -> None:
    for name, value in arm_regs.CORE.items():
        assert value == getattr(A, f"ARM_REG_{name}"), name
    assert (arm_regs.SP, arm_regs.LR, arm_regs.PC, arm_regs.CPSR) == (
        A.ARM_REG_SP, A.ARM_REG_LR, A.ARM_REG_PC, A.ARM_REG_CPSR)
    assert [arm_regs.R0 + n for n in range(13)] == [getattr(A, f"ARM_REG_R{n}") for n in range(13)]


def test_importing_the_engine_does_not_load_capstone() -> None:
    code = ("import sys, mcusim, mcusim.sim.core.engine, mcusim.isa.table_timing, "
            "mcusim.isa.m7_issue, mcusim.sim.core.fault_traps; "
            "print('capstone' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_run_from_the_block_cache_does_not_load_capstone(tmp_path) -> None:  # noqa: ANN001
    """The first run decodes (capstone classifies what the table classifiers do not: newlib's
    code has such instructions); the second finds every block and hook in the cache, and the
    cache's key (which covers capstone's version) is computed without importing capstone."""
    root = Path(__file__).resolve().parent.parent
    elf = root / "kernels_c" / "build" / "nucleo-f446re" / "hello.elf"
    if not elf.is_file():
        pytest.skip("kernels_c not built")
    code = ("import io, sys\n"
            "from mcusim import Firmware, ProgramIO, RunOptions, load_board, make_simulation\n"
            "io_ = ProgramIO(stdout=io.BytesIO(), stderr=io.BytesIO(), fs_root=sys.argv[2])\n"
            "sim = make_simulation(Firmware.open(sys.argv[1]), load_board('nucleo-f446re'),\n"
            "                      RunOptions(io=io_))\n"
            "print(sim.run().cycles, 'capstone' in sys.modules)\n")
    env = dict(os.environ, MCUSIM_CACHE_DIR=str(tmp_path), MCUSIM_BLOCK_CACHE="1")
    runs = [subprocess.run([sys.executable, "-c", code, str(elf), str(root)], env=env,
                           capture_output=True, text=True, check=True).stdout.split()
            for _ in range(2)]
    assert runs[0][0] == runs[1][0]  # the same cycles
    assert runs[1][1] == "False"
