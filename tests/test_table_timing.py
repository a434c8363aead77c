"""The table model's shortcuts give what its rules give.

block_timing charges "plain" instructions (isa/table_timing.py `_plain_classes`) their base
cost without trying the pipeline rules; here every core's table times the same blocks with
the shortcut and with every instruction put through the rules, and the two must agree. The
blocks mix instructions of every class that random Thumb code decodes to, chosen class by
class so that rare ones (NOP after a load, VDIV, IT, literal loads) meet every neighbour.
"""

from __future__ import annotations

import random
from collections import defaultdict

import pytest

from mcusim.isa.capstone_classify import capstone_run
from mcusim.isa.cycles import available_tables, load_cycle_table
from mcusim.isa.table_timing import TableTiming


def _random_encoding(rng: random.Random) -> bytes:
    """A random 16-bit encoding, or a random 32-bit one (a third of them coprocessor space
    with cp10/cp11: the FPU's)."""
    if rng.randrange(3) == 0:
        return rng.randbytes(2)
    first = rng.choice((0xE800, 0xF000, 0xF800, 0xFA00, 0xFB00, 0xEC00, 0xEE00))
    first |= rng.randrange(0x400)
    second = rng.randrange(0x10000)
    if first & 0xEC00 == 0xEC00:
        second = second & ~0xF00 | rng.choice((0xA00, 0xB00))
    return first.to_bytes(2, "little") + second.to_bytes(2, "little")


# Encodings random halfwords rarely give: NOP, NOP.W, VSQRT, UDIV, SDIV, ISB, literal loads.
KNOWN = ("00bf", "aff30080", "b1eec00a", "b1fbf2f0", "91fbf2f0", "bff36f8f", "9fed010a",
         "dff80400")


def _encodings_by_class(rng: random.Random) -> dict[str, list[bytes]]:
    """Instruction encodings that decode, by class."""
    by_class: dict[str, list[bytes]] = {}
    for k in range(12000):
        raw = _random_encoding(rng) if k >= len(KNOWN) else bytes.fromhex(KNOWN[k])
        insns = capstone_run(raw, 0x08000000)
        if len(insns) == 1 and insns[0].size == len(raw):
            by_class.setdefault(insns[0].cls, []).append(raw)
    return by_class


@pytest.fixture(scope="module")
def blocks() -> list[list]:
    rng = random.Random(15)
    by_class = _encodings_by_class(rng)
    classes = sorted(by_class)
    out = []
    for _ in range(400):
        code = b"".join(rng.choice(by_class[rng.choice(classes)]) for _ in range(40))
        # start on either halfword of a word: the unaligned 32-bit rules look at addresses
        insns = capstone_run(code, 0x08000000 + 2 * rng.randrange(2))
        if insns:
            out.append(insns)
    return out


def test_the_blocks_cover_the_rules(blocks):
    """The blocks hold what the rules look at: NOPs after loads, unaligned 32-bit runs,
    FP arithmetic and divides next to other instructions."""
    pairs = {(a.cls, b.cls) for insns in blocks for a, b in zip(insns, insns[1:], strict=False)}
    assert ("ldr", "nop") in pairs and ("vfp_alu", "alu") in pairs
    assert {"vfp_div", "vfp_sqrt", "vfp_mac", "div", "mull", "ldm", "it", "ldr_pc",
            "nop"} <= {c for c, _ in pairs}
    assert any(a.wide and b.wide and c.wide and a.address % 4 == 2
               for insns in blocks for a, b, c in zip(insns, insns[1:], insns[2:], strict=False))


@pytest.mark.parametrize("core", available_tables())
@pytest.mark.parametrize("small_multiplier", [False, True])
def test_plain_shortcut_matches_the_rules(blocks, core, small_multiplier):
    table = load_cycle_table(core)
    fast = TableTiming(table, small_multiplier)
    rules = TableTiming(table, small_multiplier)
    rules._plain_cost = defaultdict(lambda: None)  # no shortcut: all through the rules
    fast._native = rules._native = None  # (the Python rules: the C copy is checked elsewhere)
    for insns in blocks:
        for start in range(0, len(insns), 13):  # blocks of several lengths and starts
            block = insns[start:start + 1 + start % 37]
            assert fast.block_timing(block) == rules.block_timing(block), (core, block)
    if table.issue_width == 1 and not table.load_use_stall:
        assert any(fast._plain_cost.values()), "the shortcut is used on this core"
