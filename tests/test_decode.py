"""Decoding once (isa/decode.py): per-encoding reuse, whole ELF code spans and the blocks cut
from them classify every instruction exactly as capstone's block decode with operand details
does (isa/classify.py's reference), so the cycle model's numbers cannot change."""

from __future__ import annotations

import random

import pytest

from mcusim.isa.capstone_classify import capstone_run
from mcusim.isa.decode import DecodedSpan, classify_block, decode_span, forget_decoded
from mcusim.sim.core.code_map import code_spans

ELFS = [("nucleo-f446re", "conv3x3"), ("nucleo-f746zg", "branchy"), ("nucleo-g071rb", "fc"),
        ("nucleo-f103rb", "divide"), ("nucleo-l4r5zi", "cnn_chain")]


def _reference(span: DecodedSpan) -> list:
    """Capstone over the span from its start, stepping over an undecodable halfword."""
    out, offset = [], 0
    while offset + 2 <= len(span.code):
        decoded = capstone_run(span.code[offset:], span.address + offset)
        if not decoded:
            offset += 2
            continue
        out += decoded
        offset = decoded[-1].address + decoded[-1].size - span.address
    return out


@pytest.mark.parametrize("board,prog", ELFS)
def test_spans_and_blocks_decode_as_capstone_does(kernels, board, prog):
    forget_decoded()
    spans = code_spans(kernels / board / f"{prog}.elf")
    assert spans
    rnd = random.Random(1)
    it_blocks = blocks = 0
    for s in spans:
        span = decode_span(s.address, s.code)
        assert span.insns == _reference(span)
    weights = [len(s.code) for s in spans]
    for s in rnd.choices(spans, weights, k=300):
        # Blocks as Unicorn may cut them: from any instruction to any later boundary.
        span = decode_span(s.address, s.code)
        insns = span.insns
        if insns:
            blocks += 1
            first = rnd.randrange(len(insns))
            last = min(len(insns), first + rnd.randrange(1, 60))
            start, stop = insns[first].address, insns[last - 1].address + insns[last - 1].size
            code = s.code[start - s.address:stop - s.address]
            expected = capstone_run(code, start)
            assert classify_block(code, start) == expected
            cut = span.block(start, code)
            if cut is None:  # inside an IT block or across a data gap: decoded on its own
                it_blocks += 1
            else:
                assert cut == expected
    assert it_blocks < blocks / 2


def test_it_blocks_keep_their_condition_when_encodings_repeat():
    # movs r0, #1; it eq; moveq r0, #1 (as "movs r0, #1" outside: the same encoding); movs r0, #1
    code = bytes.fromhex("0120" "08bf" "0120" "0120")
    forget_decoded()
    first = classify_block(code[:2], 0x100)  # the encoding is now known outside an IT block
    assert [i.text for i in first] == ["movs r0, #1"]
    insns = classify_block(code, 0x200)
    assert insns == capstone_run(code, 0x200)
    assert [i.text for i in insns] == ["movs r0, #1", "it eq", "moveq r0, #1", "movs r0, #1"]
    span = decode_span(0x200, code)
    assert span.block(0x204, code[4:]) is None  # starts inside the IT block
    assert span.block(0x206, code[6:]) == insns[3:]


def test_a_block_must_match_the_span_bytes():
    code = bytes.fromhex("0120" "0221" "0322")
    span = decode_span(0x300, code)
    assert span.block(0x302, code[2:]) == span.insns[1:]
    assert span.block(0x302, bytes.fromhex("0421" "0322")) is None  # other bytes there
    assert span.block(0x301, code[1:5]) is None  # not on an instruction
    assert span.block(0x302, code[2:] + b"\x00\xbf") is None  # past the span's end


def test_repeated_it_blocks_decode_at_their_own_addresses():
    # cmp r0, r1; ite ge; movge r0, r1; movlt r0, #0; adds r0, #1 (the IT run is memoised by
    # its bytes), and cmp r0, #0; it eq; bxeq lr; adds r0, #1 (a branch: never memoised).
    clamp = bytes.fromhex("8842" "acbf" "0846" "0020" "0130")
    ret = bytes.fromhex("0028" "08bf" "7047" "0130")
    forget_decoded()
    for code in (clamp, ret):
        for address in (0x400, 0x802, 0x400):
            assert classify_block(code, address) == capstone_run(code, address)
            span = decode_span(address + 0x10000, code)
            assert span.insns == capstone_run(code, address + 0x10000)
    assert [i.text for i in capstone_run(ret, 0x802)][2] == "bxeq lr"
