"""Thumb decoding with capstone, done once per translated block."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import capstone


@dataclass(frozen=True, slots=True)
class Insn:
    address: int
    size: int
    mnemonic: str
    op_str: str
    raw: bytes

    def __str__(self) -> str:
        return f"{self.mnemonic} {self.op_str}".strip()


@lru_cache(maxsize=1)
def _disassembler() -> capstone.Cs:
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = False
    return md


def decode(code: bytes, address: int) -> list[Insn]:
    """Instructions of a block; stops at the first byte capstone cannot decode."""
    return [
        Insn(a, s, m, o, code[a - address:a - address + s])
        for a, s, m, o in _disassembler().disasm_lite(code, address)
    ]


def is_call(insn: Insn) -> bool:
    return insn.mnemonic in ("bl", "blx")
