"""DecodedSpan's index in C (isa/native/decoded_span.c, mcusim.isa._decoded_span) is the one
isa/decode.py's `_index_in_python` makes (its definition): the same addresses and IT-block
members for every code span of a sample of the kernels' ELFs and for made-up spans (IT
blocks cut off by the end, IT instructions inside IT blocks); None, leaving it to Python, for
what that loop alone decides; and spans indexed either way answer `cut` and `inside_it`
alike."""

from __future__ import annotations

import importlib.util
import os
import random

import pytest

from mcusim.isa import decode
from mcusim.isa.classify import InsnInfo
from mcusim.isa.decode import DecodedSpan, decode_span
from mcusim.sim.core.code_map import code_spans

from .test_hook_choice_native import SAMPLE

BUILT = importlib.util.find_spec("mcusim.isa._decoded_span") is not None
native = pytest.mark.skipif(decode.INDEX is None, reason="the native DecodedSpan index is not in "
                                                         "use (not built, or MCUSIM_NATIVE=0)")


def test_the_native_index_is_used_whenever_it_is_built():
    assert (decode.INDEX is not None) == (BUILT and os.environ.get("MCUSIM_NATIVE", "1") != "0")


def _sample(kernels):  # noqa: ANN001, ANN202
    return [decode_span(s.address, s.code) for board, prog in SAMPLE
            for s in code_spans(kernels / board / f"{prog}.elf")]


def _typed(index):  # noqa: ANN001, ANN202
    addresses, in_it = index
    return [(type(a), a) for a in addresses], type(in_it), sorted(in_it)


@native
def test_every_span_of_the_sample(kernels):
    members = 0
    for d in _sample(kernels):
        mine = decode.INDEX.index(d.insns, d.code, d.address)
        assert mine is not None
        assert _typed(mine) == _typed(decode._index_in_python(d.insns, d.code, d.address))
        members += len(mine[1])
    assert members > 50  # the kernels' IT blocks


def _made_up(rnd: random.Random) -> tuple[list[InsnInfo], bytes]:
    """A span of 2-byte instructions, a few of them IT instructions of random masks (some
    inside others' blocks, some too near the end for their whole block)."""
    n = rnd.randrange(1, 30)
    code, insns = bytearray(), []
    for k in range(n):
        if rnd.random() < 0.3:
            hw = 0xBF00 | rnd.randrange(16) << 4 | rnd.randrange(1, 16)
            insns.append(InsnInfo(0x1000 + 2 * k, 2, "ite eq", "it"))
        else:
            hw = 0x2001
            insns.append(InsnInfo(0x1000 + 2 * k, 2, "movs r0, #1", "alu"))
        code += hw.to_bytes(2, "little")
    return insns, bytes(code)


@native
def test_made_up_spans():
    rnd = random.Random(5)
    members = 0
    for _ in range(3000):
        insns, code = _made_up(rnd)
        mine = decode.INDEX.index(insns, code, 0x1000)
        assert _typed(mine) == _typed(decode._index_in_python(insns, code, 0x1000))
        members += len(mine[1])
    assert members > 1000


@native
def test_what_only_the_python_loop_decides():
    it = InsnInfo(0x1000, 2, "it eq", "it")
    alu = InsnInfo(0x1002, 2, "movs r0, #1", "alu")
    code = bytes.fromhex("08bf0120")
    assert decode.INDEX.index([it, alu], code, 0x1000) is not None
    # an IT instruction outside the code (Python indexes the bytes its own way), a class or
    # an address of another type, something that is no instruction
    assert decode.INDEX.index([it._replace(address=0x0FFE), alu], code, 0x1000) is None
    assert decode.INDEX.index([it, alu], code[:1], 0x1000) is None
    assert decode.INDEX.index([it._replace(cls=None), alu], code, 0x1000) is None
    assert decode.INDEX.index([it._replace(address=True), alu], code, 0x1000) is None
    assert decode.INDEX.index([it, ("x",)], code, 0x1000) is None
    span = DecodedSpan(0x1000, code, [it, alu], [])
    assert span.inside_it(0x1002) and not span.inside_it(0x1000)


def test_spans_indexed_either_way_answer_alike(kernels, monkeypatch):
    spans = _sample(kernels)[:60]
    native_spans = [DecodedSpan(d.address, d.code, d.insns, d.gaps) for d in spans]
    monkeypatch.setattr(decode, "INDEX", None)
    python_spans = [DecodedSpan(d.address, d.code, d.insns, d.gaps) for d in spans]
    rnd = random.Random(9)
    cuts = 0
    for mine, reference in zip(native_spans, python_spans, strict=True):
        for insn in mine.insns[::7]:
            a = insn.address
            assert mine.inside_it(a) == reference.inside_it(a)
            for length in (2, 4, 6, rnd.randrange(2, 64, 2)):
                code = mine.code[a - mine.address:a - mine.address + length]
                got = mine.cut(a, code)
                assert got == reference.cut(a, code)
                cuts += got is not None
    assert cuts > 1000


@native
def test_a_blocks_classes_and_sp_changes_in_c_are_the_definitions(kernels):
    from operator import attrgetter

    from mcusim.isa import cached_insns

    facts = cached_insns._FACTS
    assert facts is not None
    rnd = random.Random(7)
    checked = moved = 0
    for d in _sample(kernels):
        for _ in range(20):  # runs of the span's instructions, as blocks are cut
            a = rnd.randrange(len(d.insns))
            block = d.insns[a:a + rnd.randrange(1, 40)]
            assert facts.class_set(block) == frozenset(map(attrgetter("cls"), block))
            deltas = [i.sp_delta for i in block]
            assert facts.sp_unchanged(block) is (deltas.count(0) == len(deltas))
            checked += 1
            moved += deltas.count(0) != len(deltas)
    assert checked > 500 and moved > 20  # blocks that push, pop, or set SP at run time
    insn = d.insns[0]
    # None (Python decides): anything but a list of InsnInfos; an sp_delta that is no int.
    assert facts.class_set(tuple(block)) is None and facts.sp_unchanged(tuple(block)) is None
    assert facts.class_set([insn, (1, 2)]) is None
    assert facts.sp_unchanged([insn._replace(sp_delta=0.0)]) is None
    assert facts.sp_unchanged([insn._replace(sp_delta=None)]) is False
    assert facts.sp_unchanged([insn._replace(sp_delta=1 << 70)]) is False
    assert facts.class_set([]) == frozenset() and facts.sp_unchanged([]) is True
    # The module functions give the definition for what C leaves to them.
    assert cached_insns.class_set(tuple(block)) == frozenset(i.cls for i in block)
    assert cached_insns.sp_unchanged([insn._replace(sp_delta=0.0)]) is True
