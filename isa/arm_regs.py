"""Capstone's ARM register ids (what `InsnInfo` register fields hold), as constants: the code
that only compares register ids need not load capstone (tests/test_arm_regs.py checks them
against capstone.arm_const)."""

from __future__ import annotations

R0 = 66  # R0-R12 are consecutive: R<n> = R0 + n
SP, LR, PC = 12, 10, 11
CPSR = 3
# The core registers by name: R0-R12, SP, LR, PC.
CORE = {**{f"R{n}": R0 + n for n in range(13)}, "SP": SP, "LR": LR, "PC": PC}
