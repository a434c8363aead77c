"""The hook candidate choice in C (sim/core/native/hook_choice.c, mcusim.sim.core._hook_choice)
answers as sim/core/code_map.py's Python, its definition: on every instruction text of a
sample of the kernels' ELFs, on texts made to sit near the patterns, and in the hook blocks
it groups (same instructions, same dynamic dicts) for the cycle tables and models without
dynamic classes or without dynamic_rule; and it is in use whenever it is built. (The rest of
the suite runs on both paths: tests/test_code_map.py compares `_choose` with a plain
one-instruction-at-a-time reference.)"""

from __future__ import annotations

import importlib.util
import os
import random
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mcusim.isa.classify import InsnInfo
from mcusim.isa.decode import decode_span
from mcusim.isa.timing import NaiveTiming, make_timing
from mcusim.sim.core import code_map
from mcusim.sim.core.code_map import code_spans

from .test_code_map import _BlockTimingOnly, _WideAluRule

BUILT = importlib.util.find_spec("mcusim.sim.core._hook_choice") is not None
native = pytest.mark.skipif(code_map.NATIVE is None,
                            reason="the native hook choice is not in use (not built, or "
                                   "MCUSIM_NATIVE=0)")
# A sample of the kernels' ELFs: every board's core (M0+, M3, M4, M7, M33) and the programs
# with IT blocks, divides, FPU code, faults and literal pools.
SAMPLE = [("nucleo-g071rb", "fc"), ("nucleo-f103rb", "divide"), ("nucleo-f446re", "conv3x3"),
          ("nucleo-f446re", "branchy"), ("nucleo-f746zg", "fpu_ctx"),
          ("nucleo-u575zi", "cnn_chain"), ("nucleo-f446re", "fault_div0"),
          ("mps2-an385", "rtos2task"), ("nucleo-l4r5zi", "dwconv3x3")]
CORES = ("cortex-m0plus", "cortex-m3", "cortex-m4", "cortex-m7", "cortex-m33")
# Texts near the patterns: SP in and out of register lists and written back, words that
# contain "sp", mnemonics that contain the literals or almost do, odd spacing.
ADVERSARIAL = [
    "push {r4, lr}", "pop {r4, pc}", "pop {r4, sp}", "ldm r0, {sp}", "ldm r0, {r1,sp}",
    "ldm r0, {r1, sp, pc}", "stm r0!, {spx}", "ldm r0, {xsp}", "ldm r0, {r1}, sp",
    "ldm r0, {r1} {sp}", "ldm r0, {r1}} sp", "add sp, sp, #8", "add spx, r0", "mov sp,r0",
    "mov sp", "sub sp", "add r0, sp, #4", "ldr r0, [sp, #4]", "ldr r0, [sp], #4",
    "ldr r0, [sp, #-4]!", "ldr r0, [r1, sp]!", "str r0, [sp!", "str r0, sp!", "str r0, _sp!",
    "str r0, 1sp!", "str r0, xsp!", "vpush {d8}", "vpop {s16-s31}", "sp", "sp ", " sp",
    "spsp", "udiv r0, r1, r2", "sdiv", "divx", "xdi", "wfi", "wfe", "w f", "sev", "sevl",
    "cpsid i", "cps", "msr msp, r0", "mrs r0, msp", "ldrd r0, r1, [sp]", "strd", "strdx",
    "ldm.w r0!, {r1, r2}", "stmdb sp!, {r4, lr}", "ldrex r0, [r1]", "strexb r0, r1, [r2]",
    "ldre", "mul r0, r1", "smull r0, r1, r2, r3", "mla", "mls", "umlal", "ml", "m l", "",
    " ", "  sp", "nop", "bl #0x100", "{sp}", "x {sp", "x {sp}", "x {", "x }sp", "x {\nsp}",
    "x {r0\tsp}", "x sp\t", "x sp\n", "x sp!\n", "x sp_", "x sp0", "x spé", "x {é sp}",
    "x é sp!", "divé", "ésp", "x {sp\u00e9}", "x \u00e9sp!", "x {\u0660sp}", "x sp\u0660",
]
MODELS = [*(make_timing("table", core) for core in CORES), NaiveTiming(), _WideAluRule(),
          _BlockTimingOnly()]


def _fresh(text: str) -> str:
    """An equal str that is a new object (the C memo is kept per text object)."""
    return (text + "\0")[:-1] if text else "".join([])


def _python(text: str, multiply: bool) -> bool:
    function = code_map._named_candidate_or_multiply if multiply else code_map._named_candidate
    return bool(function.__wrapped__(text))


def _decoded(kernels):  # noqa: ANN001, ANN202
    out = []
    for board, prog in SAMPLE:
        spans = code_spans(kernels / board / f"{prog}.elf")
        assert spans
        out += [decode_span(s.address, s.code) for s in spans]
    return out


def test_the_native_choice_is_used_whenever_it_is_built():
    # (A rule in Python the C does not implement leaves it unused: this says so.)
    wanted = BUILT and os.environ.get("MCUSIM_NATIVE", "1") != "0"
    assert (code_map.NATIVE is not None) == wanted


@native
def test_every_text_of_the_sample(kernels):
    texts = {i.text for d in _decoded(kernels) for i in d.insns}
    assert len(texts) > 1000
    for multiply in (False, True):
        wrong = [t for t in texts if code_map.NATIVE.named(_fresh(t), multiply)
                 != _python(t, multiply)]
        assert not wrong
        # and again from the memo of the same objects
        assert [code_map.NATIVE.named(t, multiply) for t in texts] == [
            _python(t, multiply) for t in texts]
    assert any(_python(t, False) for t in texts) and not all(_python(t, True) for t in texts)


@native
def test_adversarial_texts():
    for text in ADVERSARIAL:
        for multiply in (False, True):
            assert code_map.NATIVE.named(_fresh(text), multiply) == _python(text, multiply), text
    # The list does reach both answers of each part of the rule.
    found = {(bool(code_map._NAMES_SP.search(t.partition(" ")[2])),
              bool(code_map._CANDIDATE.search(t.partition(" ")[0]))) for t in ADVERSARIAL}
    assert found == {(False, False), (False, True), (True, False), (True, True)}


@native
@settings(max_examples=400, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("sp{}! ,r0dvwfecmltxb_-#[]\t\né\u0660")),
               max_size=24))
def test_any_text_over_the_patterns_alphabet(text):
    for multiply in (False, True):
        assert code_map.NATIVE.named(_fresh(text), multiply) == _python(text, multiply)


@native
def test_more_texts_than_the_memo_holds():
    # The memo is emptied when half of its slots are used: answers stay the same across that.
    rnd = random.Random(3)
    words = ["sp", "{", "}", "!", " ", "div", "mul", "r0", ",", "ldm", "x"]
    texts = ["".join(rnd.choice(words) for _ in range(rnd.randrange(1, 7))) + f" {k}"
             for k in range(70_000)]
    mine = [code_map.NATIVE.named(t, True) for t in texts]
    assert mine == [_python(t, True) for t in texts]


@native
def test_texts_python_decides_and_bad_input():
    class Text(str):
        pass

    assert code_map.NATIVE.named(Text("x {sp}"), False) is True
    with pytest.raises(TypeError):
        code_map.NATIVE.groups([("not", "an", "insn")], [], 8, False, None, None)
    bad = InsnInfo(0x100, 2, None, "alu")  # type: ignore[arg-type]
    with pytest.raises(AttributeError):  # what _named_candidate raises for it
        code_map.NATIVE.groups([bad], [], 8, False, None, None)


def _python_groups(decoded, timing):  # noqa: ANN001, ANN202
    rule = getattr(timing, "dynamic_rule", None)
    classes = getattr(timing, "dynamic_classes", None)
    extra = None if classes is not None or rule is None else [
        k for k, i in enumerate(decoded.insns) if rule(i) is not None]
    return rule is None, classes, extra


@native
def test_groups_and_blocks_of_the_sample(kernels, monkeypatch):
    decoded = _decoded(kernels)
    made = 0
    for timing in MODELS:
        for d in decoded:
            multiply, classes, extra = _python_groups(d, timing)
            mine = code_map.NATIVE.groups(d.insns, d.gaps, code_map._BRIDGE, multiply, classes,
                                          extra)
            assert mine == code_map._groups(d.insns, d.gaps, multiply, classes, extra)
            made += len(mine)
    assert made > 500
    # The hook blocks themselves: the same instructions and dynamic dicts on both paths.
    dynamic = 0
    spans = [s for board, prog in SAMPLE for s in code_spans(kernels / board / f"{prog}.elf")]
    for timing in MODELS:
        native_blocks = [code_map._choose(s, timing) for s in spans]
        monkeypatch.setattr(code_map, "NATIVE", None)
        python_blocks = [code_map._choose(s, timing) for s in spans]
        monkeypatch.undo()
        assert [[(list(b.insns), b.dynamic) for b in bs] for bs in native_blocks] == [
            [(list(b.insns), b.dynamic) for b in bs] for bs in python_blocks]
        dynamic += sum(len(b.dynamic) for bs in native_blocks for b in bs)
    assert dynamic > 100


def _insn(k: int, text: str, cls: str) -> InsnInfo:
    return InsnInfo(0x1000 + 2 * k, 2, text, cls)


@native
@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["movs r0, #1", "udiv r0, r1", "push {r4, lr}",
                                           "mul r0, r1", "mov sp, r0", "adds r0, r1",
                                           "ldr r0, [sp]"]),
                          st.sampled_from(["alu", "mul", "mull", "ldr", "branch"])),
                max_size=60),
       st.sets(st.integers(0, 60)), st.sampled_from([None, frozenset({"mull"}), {"mul", "ldr"}]),
       st.booleans(), st.booleans())
def test_groups_of_any_instructions_gaps_and_extras(pairs, gap_set, classes, multiply, extras):
    insns = [_insn(k, text, cls) for k, (text, cls) in enumerate(pairs)]
    gaps = sorted(g for g in gap_set if 0 < g < len(insns))
    extra = [k for k in range(len(insns)) if k % 7 == 3] if extras else None
    mine = code_map.NATIVE.groups(insns, gaps, code_map._BRIDGE, multiply, classes, extra)
    assert mine == code_map._groups(insns, gaps, multiply, classes, extra)
    if extra:  # in any order, repeated: the same candidates
        shuffled = extra[::-1] + extra[:1]
        assert code_map.NATIVE.groups(insns, gaps, code_map._BRIDGE, multiply, classes,
                                      shuffled) == mine


def test_a_rule_the_c_does_not_implement_leaves_it_unused(monkeypatch):
    if not BUILT:
        pytest.skip("mcusim.sim.core._hook_choice is not built")
    monkeypatch.delenv("MCUSIM_NATIVE", raising=False)
    try:
        names_sp = code_map._NAMES_SP
        monkeypatch.setattr(code_map, "_NAMES_SP", re.compile(r"^sp\b|\bsp!"))
        assert code_map._native_choice() is None
        monkeypatch.setattr(code_map, "_NAMES_SP", names_sp)
        monkeypatch.setattr(code_map, "_CANDIDATE", re.compile(r"di.|wf"))
        assert code_map._native_choice() is None
        # Literals are the Python's: another alternation of them is what the C then matches.
        monkeypatch.setattr(code_map, "_CANDIDATE", re.compile(r"zork|wf"))
        module = code_map._native_choice()
        assert module is not None
        assert module.named("zorked r0", False) and not module.named("udiv r0", False)
    finally:
        monkeypatch.undo()
        monkeypatch.delenv("MCUSIM_NATIVE", raising=False)
        code_map._native_choice()  # configured with the module's own patterns again
        monkeypatch.undo()
    if code_map.NATIVE is not None:
        assert code_map.NATIVE.named("udiv r0, r1", False)
        assert not code_map.NATIVE.named("zorked r0", False)
