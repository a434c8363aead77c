"""The native Thumb decoder (isa/native, mcusim.isa._thumb_decode) gives exactly what the
Python one does: its classifier the InsnInfo of isa/thumb_table.py classify_at (every field,
of the same type; None alike) for every first halfword, with second halfwords for the 32-bit
ones, and for random 32-bit pairs at random addresses; and decode_span with its fast loop the
instructions of the pure-Python loop for every code span of the kernels' ELFs and of the code
`mcusim nn` generates. (tests/test_thumb_table.py checks the Python classifier against
capstone.)"""

from __future__ import annotations

import gc
import random
import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcusim.isa import decode
from mcusim.isa.classify import InsnInfo
from mcusim.isa.thumb_it import classify_it_block
from mcusim.isa.thumb_table import classify_at
from mcusim.sim.core.code_map import code_spans

from .test_thumb_table import (
    _random_it_block,
    forms_inside_it_blocks,
    more_wide_forms,
    random_it_block_with_a_branch,
)

if decode.NATIVE is None:
    pytest.skip("the native Thumb decoder (mcusim.isa._thumb_decode) is not in use: not built "
                "(no C compiler at install time?) or MCUSIM_NATIVE=0", allow_module_level=True)
native_classify = decode.NATIVE.classify


def _typed(info: tuple | None) -> list | None:
    # (True == 1 and 0 == False: the types are compared too)
    return None if info is None else [(type(v), v) for v in info]


def _difference(code: bytes, address: int) -> str | None:
    mine, reference = native_classify(code, 0, address), classify_at(code, 0, address)
    if _typed(mine) == _typed(reference) and type(mine) is type(reference):
        return None
    return f"{code.hex()} at {address:#x}: C {mine} != Python {reference}"


def _wrong(pairs: list[tuple[bytes, int]]) -> list[str]:
    found = (_difference(code, address) for code, address in pairs)
    return [d for d in found if d is not None]


def test_every_first_halfword():
    rnd = random.Random(21)
    pairs, handled = [], 0
    for hw in range(0x10000):
        address = rnd.randrange(0, 1 << 32, 2)
        if hw >> 11 < 0b11101:
            pairs.append((struct.pack("<H", hw), address))
            continue
        for hw2 in (0, 0xFFFF, *(rnd.randrange(0x10000) for _ in range(6))):
            pairs.append((struct.pack("<HH", hw, hw2), address))
        pairs.append((struct.pack("<H", hw), address))  # cut off: None
    wrong = _wrong(pairs)
    handled = sum(native_classify(c, 0, a) is not None for c, a in pairs)
    assert not wrong[:10]
    assert handled > 50000


def test_random_32_bit_pairs():
    rnd = random.Random(2115)
    pairs = [(struct.pack("<HH", rnd.randrange(0xE800, 0x10000), rnd.randrange(0x10000)),
              rnd.choice((rnd.randrange(0x08000000, 0x08200000, 2),
                          rnd.randrange(0, 1 << 32, 2))))
             for _ in range(300_000)]
    wrong = _wrong(pairs)
    assert not wrong[:10]
    assert sum(native_classify(c, 0, a) is not None for c, a in pairs[:20000]) > 3000



def test_random_encodings_of_the_shifts_bit_fields_addw_subw_and_dual_loads():
    rnd = random.Random(2116)
    for form, encoding in more_wide_forms(rnd).items():
        pairs = [(struct.pack("<HH", *encoding()), rnd.randrange(0, 1 << 32, 2))
                 for _ in range(5000)]
        assert not _wrong(pairs)[:10], form
        assert sum(native_classify(c, 0, a) is not None for c, a in pairs) > 800, form


def _it_differences(blocks, rnd: random.Random) -> tuple[list[str], int]:
    """Where classify_it differs from isa/thumb_it.py's classify_it_block (every field, of the
    same type; None alike) for `blocks` at random addresses, and how many Python handled."""
    handled, wrong = 0, []
    for code in blocks:
        address = rnd.randrange(0, 1 << 32, 2)
        mine, reference = decode.NATIVE.classify_it(code, 0, address), classify_it_block(
            code, 0, address)
        handled += reference is not None
        if (mine is None) != (reference is None) or (
                mine is not None and list(map(_typed, mine)) != list(map(_typed, reference))):
            wrong.append(f"{code.hex()} at {address:#x}: C {mine} != Python {reference}")
    return wrong, handled


def test_random_it_blocks():
    """classify_it gives isa/thumb_it.py's InsnInfos for random IT blocks."""
    rnd = random.Random(2117)
    wrong, handled = _it_differences((_random_it_block(rnd) for _ in range(10000)), rnd)
    assert not wrong[:10]
    assert handled > 1000


def test_random_it_blocks_ending_with_a_branch():
    rnd = random.Random(2119)
    wrong, handled = _it_differences(
        (random_it_block_with_a_branch(rnd) for _ in range(5000)), rnd)
    assert not wrong[:10]
    assert handled > 500


def test_every_32_bit_form_inside_it_blocks():
    rnd = random.Random(2120)
    wrong, handled = _it_differences(forms_inside_it_blocks(rnd), rnd)
    assert not wrong[:10]
    assert handled > 1000


@settings(max_examples=1000, deadline=None)
@given(st.integers(0xE800, 0xFFFF), st.integers(0, 0xFFFF), st.integers(0, (1 << 32) - 2))
def test_any_32_bit_pair(hw1, hw2, address):
    assert _difference(struct.pack("<HH", hw1, hw2), address & ~1) is None


def test_classify_at_an_offset_and_at_the_end():
    code = bytes.fromhex("0120 7047 4ff0 0100 f0")  # movs, bx lr, mov.w, a cut-off byte
    for pos in (0, 2, 4):
        assert _typed(native_classify(code, pos, 0x100 + pos)) == _typed(
            classify_at(code, pos, 0x100 + pos))
    assert native_classify(code[:6], 4, 0x104) is None  # 32 bits cut off
    with pytest.raises(IndexError):
        native_classify(code, 8, 0x108)


def _decodes(spans: dict[bytes, int], native: bool, monkeypatch) -> list[tuple[list, list]]:
    """Each span's instructions and gaps, decoded from empty memos with the C loop and
    classifier or without. (InsnInfos compared as tuples: the types of their fields are those
    of the classifier's, compared above, or of capstone's, made by Python either way.)"""
    with monkeypatch.context() as m:
        if not native:
            m.setattr(decode, "_scan", None)
            m.setattr(decode, "_classify_at", classify_at)
            m.setattr(decode, "_TAILS", {})
        decode.forget_decoded()
        out = []
        try:
            for code, address in spans.items():
                span = decode.decode_span(address, code)
                assert all(type(i) is InsnInfo for i in span.insns)
                out.append((span.insns, span.gaps))
        finally:
            decode.forget_decoded()
        return out


def _count(decodes: list[tuple[list, list]]) -> int:
    return sum(len(insns) for insns, _ in decodes)


def _spans(elfs) -> dict[bytes, int]:
    spans: dict[bytes, int] = {}
    for elf in elfs:
        for s in code_spans(elf):
            spans.setdefault(s.code, s.address)
    return spans


def _atomic(value: object) -> bool:
    if isinstance(value, (frozenset, tuple)):
        return all(type(v) is int for v in value)
    return value is None or type(value) in (int, bool, str)


def test_decode_span_of_every_kernel_elf(kernels, monkeypatch):
    spans = _spans(sorted(kernels.rglob("*.elf")))
    native, python = _decodes(spans, True, monkeypatch), _decodes(spans, False, monkeypatch)
    assert _count(native) > 100_000
    for n, (mine, reference) in enumerate(zip(native, python, strict=True)):
        assert mine == reference, f"span {n} of {len(spans)}"
    # The InsnInfos the C decoder makes (most) are not tracked by the cyclic collector: right
    # only while nothing in them can refer back to one (ints, strings, sets or tuples of ints).
    shapes = {insn[1:] for insns, _ in native for insn in insns}
    assert all(_atomic(v) for shape in shapes for v in shape)
    untracked = sum(not gc.is_tracked(i) for insns, _ in native for i in insns)
    assert untracked > _count(native) / 2


def test_decode_span_with_a_small_memo(kernels, monkeypatch):
    # The memo of classified encodings emptied as often as possible: still the same decode.
    monkeypatch.setattr(decode, "_TEMPLATE_LIMIT", 3)
    spans = dict(list(_spans(sorted(kernels.rglob("*.elf"))).items())[:40])
    assert _decodes(spans, True, monkeypatch) == _decodes(spans, False, monkeypatch)


def test_decode_span_of_the_generated_nn_code(unrolled_nn_elf, monkeypatch):
    spans = _spans([unrolled_nn_elf])
    native, python = _decodes(spans, True, monkeypatch), _decodes(spans, False, monkeypatch)
    assert _count(native) > 10_000
    assert native == python


def test_the_native_memo_of_encodings_behaves_as_the_dict_it_replaces():
    rnd = random.Random(7)
    memo, reference = decode.NATIVE.EncodingMemo(), {}
    for n in range(5000):  # grows through several sizes; 16- and 32-bit keys never collide
        encoding = (struct.pack("<H", rnd.randrange(0xE800)) if n % 2 else
                    struct.pack("<HH", rnd.randrange(0xE800, 0x10000), rnd.randrange(0x10000)))
        memo[encoding] = reference[encoding] = (n,)
        probe = struct.pack("<H", rnd.randrange(0x10000))
        assert memo.get(probe) == reference.get(probe)
        assert memo.get(probe, "none") == reference.get(probe, "none")
    assert len(memo) == len(reference) and all(memo[k] == v for k, v in reference.items())
    assert memo.get(b"\x00\x00\x00\x00") is None and memo.get(b"\x01\x20\x00") is None
    with pytest.raises(KeyError):
        memo[b"\xff\xff\xff\xff"]  # noqa: B018
    with pytest.raises(ValueError):
        memo[b"\x01"] = ()
    memo.clear()
    assert len(memo) == 0 and memo.get(next(iter(reference))) is None


def test_bkpt_svc_cps_hints_and_barriers():
    from .test_thumb_table import system_encodings

    rnd = random.Random(2118)
    pairs = [(code, rnd.randrange(0, 1 << 32, 2)) for code in system_encodings()]
    assert not _wrong(pairs)[:10]
    assert sum(native_classify(c, 0, a) is not None for c, a in pairs) == 836  # (as Python)
