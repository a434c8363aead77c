"""The register ids in isa/arm_regs.py are capstone's, and importing the engine and the cycle
models does not load capstone (it is loaded when an instruction needs it: start-up time)."""

from __future__ import annotations

import subprocess
import sys

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
