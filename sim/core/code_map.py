"""Where an ELF's Thumb code is, so that code hooks can be placed before the run starts.

Unicorn only instruments blocks translated after a code hook exists. Adding a hook while the
run is going means stopping the emulation and starting it again at the block; on Unicorn 2.1
such a restart, with memory hooks present, can leave stale IT-block state behind after a
conditional store, so that a later `blx` is skipped (the program then runs differently when
it is observed: issue 14). So the engine places every code hook it can foresee before the
first `emu_start`, from a decode of the ELF's code, and restarts only for code it could not
see (code outside the executable sections, e.g. written to RAM at run time).

Code spans (sim/core/elf_code.py) are the executable sections minus the data the ARM ELF's
mapping symbols mark, so that a linear decode stays in step with the instructions.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Collection
from itertools import compress, count
from operator import attrgetter
from pathlib import Path
from types import ModuleType

from elftools.elf.elffile import ELFFile

from mcusim.base.native import optional_extension
from mcusim.isa.block_cache import BlockCache
from mcusim.isa.classify import InsnInfo
from mcusim.isa.decode import decode_span
from mcusim.isa.timing import TimingModel
from mcusim.sim.core.blocks import Block
from mcusim.sim.core.elf_code import SPAN_ERRORS, CodeSpan, spans_of


def code_spans(path: Path) -> tuple[CodeSpan, ...]:
    """The ELF's code, without the data islands its mapping symbols mark (what `Firmware`
    holds as `code`, read again from `path`). An ELF this cannot read gives no spans (the
    engine then adds hooks as blocks appear)."""
    try:
        stat = path.stat()
        return _spans(str(path), stat.st_mtime_ns, stat.st_size)
    except SPAN_ERRORS:
        return ()


@functools.lru_cache(maxsize=64)
def _spans(path: str, _mtime: int, _size: int) -> tuple[CodeSpan, ...]:
    with open(path, "rb") as f:
        return spans_of(ELFFile(f))


def hook_blocks(span: CodeSpan, timing: TimingModel,
                cache: BlockCache | None = None) -> tuple[Block, ...]:
    """The instructions of the span that may need a code hook, in blocks each with the
    instruction after it (a run-time SP write is read there): those whose mnemonic or
    operands `_CANDIDATE` / `_NAMES_SP` match (instructions that may write SP, divides,
    WFI/WFE...) and those the timing model times per execution (multiplies too, for a model
    that cannot say which per instruction: `_MULTIPLY`); the engine's rules then
    decide, exactly as for a block Unicorn translates. The span is decoded once per process
    (isa/decode.py), and the blocks are kept per timing model, in the process and in `cache`:
    repeated simulations of one ELF pay once."""
    model = getattr(timing, "cache_key", None)
    key = (span.address, span.code, model)
    if model is not None and key in _HOOK_BLOCKS:
        return _HOOK_BLOCKS[key]
    stored = cache.hooks(span.address, len(span.code), _SELECTION) if cache is not None else None
    if stored is not None:
        out = tuple(_hook_block(insns, dynamic) for insns, dynamic in stored)
    else:
        out = _choose(span, timing)
        if cache is not None:
            cache.put_hooks(span.address, len(span.code), _SELECTION,
                            [(b.insns, b.dynamic) for b in out])
    if model is not None:
        if len(_HOOK_BLOCKS) >= 64:
            _HOOK_BLOCKS.clear()
        _HOOK_BLOCKS[key] = out
    return out


_hook_block = Block.for_hooks
_TEXT, _CLASS = attrgetter("text"), attrgetter("cls")


def _choose(span: CodeSpan, timing: TimingModel) -> tuple[Block, ...]:
    """Each candidate with the instruction after it; candidates up to _BRIDGE instructions
    apart share one block, with the instructions between them (a few more instructions looked
    at, in far fewer blocks: what the rules choose from each is the same, and for the few
    instructions between, a hook they want is one placed now instead of at run time)."""
    decoded = decode_span(span.address, span.code)
    insns = decoded.insns
    rule = getattr(timing, "dynamic_rule", None)
    # The classes the model times per execution, when it says which (then the rule of such an
    # instruction is its class): a set test per instruction instead of a method call.
    classes = getattr(timing, "dynamic_classes", None)
    # Instructions the model's rule picks, for a model that does not give its classes.
    extra = None if classes is not None or rule is None else [
        k for k, i in enumerate(insns) if rule(i) is not None]
    # (`rule is None`: multiplies are candidates. A model that says per instruction what it
    # times needs no multiply pattern: its rule finds its operand-timed instructions, and no
    # other rule hooks one.) The choice runs in C when it is built (the same groups).
    if NATIVE is not None:
        groups = NATIVE.groups(insns, decoded.gaps, _BRIDGE, rule is None, classes, extra)
    else:
        groups = _groups(insns, decoded.gaps, rule is None, classes, extra)
    blocks: list[Block] = []
    for first, last, dynamic in groups:
        group = insns[first:last + 1]
        if dynamic is None:  # (a model without dynamic classes)
            if rule is not None:
                dynamic = {i.address: r for i in group if (r := rule(i)) is not None}
            else:
                dynamic = timing.block_timing(group).dynamic
        blocks.append(_hook_block(group, dynamic))
    return tuple(blocks)


Group = tuple[int, int, dict[int, str] | None]


def _groups(insns: list[InsnInfo], gaps: list[int], multiply: bool,
            classes: Collection[str] | None, extra: list[int] | None) -> list[Group]:
    """The hook blocks as (first, last, dynamic): instruction indices, and with `classes`
    the {address: class} of the instructions in them whose class is one of `classes` (else
    None). The candidates: those `_named_candidate` names (`_named_candidate_or_multiply`
    with `multiply`), those of `classes`, those `extra` lists. (sim/core/native/
    hook_choice.c's `groups` does the same in C.)"""
    n = len(insns)
    named = _named_candidate_or_multiply if multiply else _named_candidate
    # Candidates, in one pass over the decode (every instruction of the ELF's code) run by
    # map/compress in C: no Python code per instruction but the memo's on a text not seen yet.
    picked = set(compress(count(), map(named, map(_TEXT, insns))))
    if classes is not None:
        picked.update(compress(count(), map(classes.__contains__, map(_CLASS, insns))))
    if extra is not None:
        picked.update(extra)
    next_gap = 0  # gaps[next_gap] is the first gap after the current candidate
    contiguous_from = 0  # first instruction after the last gap at or before the candidate
    groups: list[list[int]] = []  # [first, last] instruction indices of each block
    for k in sorted(picked):
        while next_gap < len(gaps) and gaps[next_gap] <= k:
            contiguous_from = gaps[next_gap]
            next_gap += 1
        follows = k + 1 < n and not (next_gap < len(gaps) and gaps[next_gap] == k + 1)
        last = k + 1 if follows else k
        if groups and groups[-1][1] + _BRIDGE >= k and groups[-1][0] >= contiguous_from:
            groups[-1][1] = last
        else:
            groups.append([k, last])
    if classes is None:
        return [(first, last, None) for first, last in groups]
    return [(first, last, {i.address: i.cls for i in insns[first:last + 1] if i.cls in classes})
            for first, last in groups]


@functools.lru_cache(maxsize=1 << 16)
def _named_candidate(text: str) -> bool:
    """Whether an instruction's text makes it a candidate (see hook_blocks). Memoised per text:
    an encoding seen before gives the same text object again (isa/decode.py reuses it), and a
    dict lookup of a string whose hash is already computed is far cheaper than two regex
    searches."""
    mnemonic, _, operands = text.partition(" ")
    return _named_mnemonic(mnemonic) or ("sp" in operands and bool(_NAMES_SP.search(operands)))


@functools.lru_cache(maxsize=1 << 12)
def _named_mnemonic(mnemonic: str) -> bool:
    """Whether `_CANDIDATE` matches a mnemonic (far fewer of them than texts: memoised)."""
    return bool(_CANDIDATE.search(mnemonic))


@functools.lru_cache(maxsize=1 << 16)
def _named_candidate_or_multiply(text: str) -> bool:
    """The same, multiplies and multiply-accumulates included (for a model without
    dynamic_rule: its block timing then says which of them it times)."""
    return _named_candidate(text) or bool(_MULTIPLY.search(text.partition(" ")[0]))


_BRIDGE = 8  # candidates this many instructions apart or closer share a hook block
# Hook blocks per (span, timing model): decoded and chosen once per process.
_HOOK_BLOCKS: dict[tuple[int, bytes, str], tuple[Block, ...]] = {}
# What the engine's own rules look at by mnemonic: divides (operand-timed; the fault traps note
# them for DIV_0_TRP), WFI/WFE, SEV, CPS/MSR, and ldrd|strd|ldm|stm|ldrex|strex (FAULTS,
# alignment checks: sim/core/fault_traps.py).
_CANDIDATE = re.compile(r"div|wf|sev|cps|msr|ldrd|strd|ldm|stm|ldrex|strex")
# Multiplies: operand-timed on some cores (M3 UMULL/SMLAL...); candidates only when the model
# cannot say which it times per instruction (no dynamic_rule). Most generated code multiplies,
# and for a model with the rule these only made hook blocks that no rule hooks.
_MULTIPLY = re.compile(r"mul|ml")
# SP as the destination, written back, or in a register list (what can set it to a run-time
# value); SP only as a base or source leaves it unchanged.
_NAMES_SP = re.compile(r"^sp\b|\bsp!|\{[^}]*\bsp\b")
# What the choice depends on besides the code: cached hook blocks are kept per selection.
_SELECTION = (f"{_CANDIDATE.pattern} {_NAMES_SP.pattern} {_BRIDGE} "
              f"{_MULTIPLY.pattern} without dynamic_rule")


def _native_choice() -> ModuleType | None:
    """sim/core/native/hook_choice.c (mcusim.sim.core._hook_choice): `_groups` in C, the same
    groups; None when it was not built, `MCUSIM_NATIVE=0` asks for the pure-Python path (as
    for isa/decode.py's decoder), or the rule here is not the one it implements (mnemonic
    patterns that are not alternations of literals, another `_NAMES_SP`)."""
    _hook_choice = optional_extension("mcusim.sim.core._hook_choice")
    if _hook_choice is None:
        return None
    literals = [p.pattern.split("|") for p in (_CANDIDATE, _MULTIPLY)]
    if _NAMES_SP.pattern != _hook_choice.NAMES_SP or any(
            re.escape(w) != w or not w for words in literals for w in words):
        return None
    _hook_choice.configure(*literals, _named_candidate, _named_candidate_or_multiply)
    return _hook_choice


NATIVE = _native_choice()
