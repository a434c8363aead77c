"""Hook placement before the run (sim/core/code_map.py): `_choose` picks exactly the hook blocks
the plain rule gives (every instruction's text matched by the two patterns, the timing model's
dynamic_rule asked per instruction, blocks never spanning a gap in the decode), for the cycle
tables, the naive model and a model that says nothing about which classes it times."""

from __future__ import annotations

import pytest

from mcusim.isa.decode import decode_span, forget_decoded
from mcusim.isa.timing import NaiveTiming, make_timing
from mcusim.sim.core import code_map
from mcusim.sim.core.code_map import CodeSpan, code_spans

ELFS = [("nucleo-f446re", "conv3x3"), ("nucleo-f746zg", "branchy"), ("nucleo-g071rb", "fc"),
        ("nucleo-f103rb", "divide"), ("nucleo-l4r5zi", "cnn_chain")]


class _WideAluRule:
    """A timing model with a dynamic rule that is not the class and no `dynamic_classes`."""

    def dynamic_rule(self, insn):  # noqa: ANN001, ANN201
        return "wide" if insn.size == 4 and insn.cls == "alu" else None


class _BlockTimingOnly:
    """A timing model without dynamic_rule: its block timing says what it times."""

    def block_timing(self, block):  # noqa: ANN001, ANN201
        m3 = make_timing("table", "cortex-m3")
        return m3.block_timing(block)


def _models() -> list:
    return [make_timing("table", "cortex-m3"), make_timing("table", "cortex-m4"),
            make_timing("table", "cortex-m7"), make_timing("table", "cortex-m33"),
            NaiveTiming(), _WideAluRule(), _BlockTimingOnly()]


def _reference(span: CodeSpan, timing) -> list[tuple[list, dict]]:  # noqa: ANN001
    """The selection written plainly: one instruction at a time."""
    insns = decode_span(span.address, span.code).insns
    rule = getattr(timing, "dynamic_rule", None)
    if rule is None:  # then multiplies are candidates, and the block timing says what it times
        def rule(i):  # noqa: ANN001, ANN202
            return None

        multiply = code_map._MULTIPLY.search
    else:
        def multiply(mnemonic):  # noqa: ANN001, ANN202
            return False
    groups: list[list[int]] = []
    contiguous_from = 0
    for k, insn in enumerate(insns):
        if k and insns[k - 1].address + insns[k - 1].size != insn.address:
            contiguous_from = k
        mnemonic, _, operands = insn.text.partition(" ")
        if not (code_map._CANDIDATE.search(mnemonic) or code_map._NAMES_SP.search(operands)
                or multiply(mnemonic) or rule(insn) is not None):
            continue
        follows = k + 1 < len(insns) and insns[k + 1].address == insn.address + insn.size
        last = k + 1 if follows else k
        if groups and groups[-1][1] + code_map._BRIDGE >= k and groups[-1][0] >= contiguous_from:
            groups[-1][1] = last
        else:
            groups.append([k, last])
    out = []
    for first, last in groups:
        group = insns[first:last + 1]
        if hasattr(timing, "dynamic_rule"):
            out.append((group, {i.address: r for i in group if (r := rule(i)) is not None}))
        else:
            out.append((group, timing.block_timing(group).dynamic))
    return out


def _chosen(span: CodeSpan, timing) -> list[tuple[list, dict]]:  # noqa: ANN001
    return [(list(b.insns), b.dynamic) for b in code_map._choose(span, timing)]


@pytest.mark.parametrize("board,prog", ELFS)
def test_hook_blocks_are_the_plain_selection(kernels, board, prog):
    spans = code_spans(kernels / board / f"{prog}.elf")
    assert spans
    chosen = 0
    for timing in _models():
        for span in spans:
            expected = _reference(span, timing)
            assert _chosen(span, timing) == expected
            chosen += len(expected)
    assert chosen  # the programs have candidates (multiplies, pushes, divides)


@pytest.mark.parametrize("board,prog", ELFS)
def test_the_firmware_holds_the_code_spans_of_its_elf(kernels, board, prog):
    # Read from the ELF Firmware.open has open (the engine places its hooks from them), the
    # same as from the file again; the data islands of the mapping symbols are left out.
    from mcusim.sim.core.firmware import Firmware

    elf = kernels / board / f"{prog}.elf"
    spans = Firmware.open(elf).code
    assert spans and spans == code_spans(elf)
    assert all(len(s.code) % 2 == 0 for s in spans)


def test_an_elf_whose_code_cannot_be_read_still_runs_without_spans(kernels, monkeypatch):
    # The code spans only let hooks be placed before the run: an ELF whose mapping symbols or
    # sections the reader trips on still opens, and its hooks are added as blocks appear.
    from mcusim import RunOptions, load_board, make_simulation
    from mcusim.sim.core import firmware

    elf = kernels / "nucleo-f446re" / "hello.elf"
    expected = make_simulation(firmware.Firmware.open(elf), load_board("nucleo-f446re"),
                               RunOptions()).run()

    def unreadable(elf):  # noqa: ANN001, ANN202
        raise ValueError("an odd symbol table")

    monkeypatch.setattr(firmware, "spans_of", unreadable)
    fw = firmware.Firmware.open(elf)
    assert fw.code == ()
    result = make_simulation(fw, load_board("nucleo-f446re"), RunOptions()).run()
    assert (result.cycles, result.exit_code) == (expected.cycles, expected.exit_code)


def test_blocks_stop_at_gaps_and_it_blocks_are_marked():
    # sdiv r0, r0, r0 | 0xffff (with the halfword after it no instruction: stepped over) |
    # movs, push {r4, lr}, movs | ite eq; moveq; movne | muls
    sdiv, movs, push = "90fbf0f0", "0120", "10b5"
    code = bytes.fromhex(sdiv + "ffff" + movs + push + movs + "0cbf" + "0120" + "0220" + "4043")
    forget_decoded()
    span = CodeSpan(0x1000, code)
    decoded = decode_span(span.address, span.code)
    addresses = [i.address for i in decoded.insns]
    assert 0x1004 not in addresses  # stepped over
    gap = addresses.index(0x1006)
    assert decoded.gaps == [gap]
    assert [decoded.inside_it(a) for a in addresses] == [
        a in (0x100E, 0x1010) for a in addresses]
    for timing in _models():
        chosen = _chosen(span, timing)
        assert chosen == _reference(span, timing)
        # The divide before the gap is a block on its own: never joined across the gap.
        assert [i.address for i in chosen[0][0]] == [0x1000]


def test_a_cold_run_decodes_each_span_once(tmp_path, monkeypatch):
    # 150 literal pools: 151 code spans between their $d mapping symbols, more than the decode
    # memo once held (the run's blocks were then decoded a second time).
    from tests import asm
    from tests.conftest import simulate

    body = "".join(f"    ldr r0, ={0x12345678 + k:#x}\n    b 1f\n    .pool\n1:\n"
                   for k in range(150))
    elf = asm.build(tmp_path, body + "    mul r0, r0, r0\n" + asm.EXIT_OK)
    spans = code_spans(elf)
    assert len(spans) > 150
    monkeypatch.setenv("MCUSIM_BLOCK_CACHE", "0")  # cold: every block cut from its span
    forget_decoded()
    run = simulate(elf, "nucleo-f446re", timing=make_timing("table", "cortex-m4"))
    assert run.result.stop == "exit"
    info = decode_span.cache_info()
    assert info.misses == len(spans)  # each span decoded once, by hook placement
    assert info.hits >= len(spans)  # each span's block was cut from the memo's decode


def test_multiplies_are_candidates_only_without_dynamic_rule():
    # mul, smull, mla, movs x3: on the M4 nothing here is timed per execution (no hook block);
    # on the M3 SMULL is (its rule finds it); a model without dynamic_rule gets the multiplies.
    code = bytes.fromhex("00fb00f0" "81fb0210" "01fb0230" "0120" "0221" "0322")
    span = CodeSpan(0x2000, code)
    forget_decoded()
    assert _chosen(span, make_timing("table", "cortex-m4")) == []
    m3 = _chosen(span, make_timing("table", "cortex-m3"))
    assert [([i.address for i in insns], d) for insns, d in m3] == [
        ([0x2004, 0x2008], {0x2004: "mull"})]
    plain = _chosen(span, _BlockTimingOnly())
    assert [i.address for i in plain[0][0]] == [0x2000, 0x2004, 0x2008, 0x200C]
    assert plain[0][1] == {0x2004: "mull"}
