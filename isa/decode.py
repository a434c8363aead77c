"""Decoding Thumb code into `InsnInfo`s once: per encoding, per block, per ELF code span.

What an instruction classifies to depends on its encoding, its address (branch targets) and
whether it sits inside an IT block (its condition), nothing else. So:
- an encoding already classified, outside an IT block and with nothing address-dependent, is
  reused (unrolled code repeats a few encodings many times);
- each run of new encodings is classified by the table-driven decoder (isa/thumb_table.py)
  where it knows the encoding, else by capstone with operand details (isa/classify.py), one
  capstone call per run; an IT instruction and the instructions it makes conditional are
  always decoded together (by isa/thumb_it.py when the table knows them all, else in one
  capstone run), so they keep their condition;
- a code span of the ELF (sim/core/code_map.py) is decoded once, linearly, and a block that
  Unicorn translates inside it is a slice of that decode (`DecodedSpan.block`).
The table classifier and the loop over reused and table-classified encodings also exist in C
(isa/native, the optional extension mcusim.isa._thumb_decode), used when it is built unless
MCUSIM_NATIVE=0: the same InsnInfos (tests/test_thumb_decode_native.py), several times faster.
So does DecodedSpan's index (isa/native/decoded_span.c, mcusim.isa._decoded_span).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import lru_cache
from itertools import compress, count
from operator import attrgetter
from types import ModuleType

from mcusim.base.heap import made_at_once
from mcusim.base.native import optional_extension
from mcusim.isa.classify import ALWAYS, COND, InsnInfo, _shared


def _python_classifiers() -> tuple[Callable[[bytes, int, int], InsnInfo | None],
                                   Callable[[bytes, int, int], list[InsnInfo] | None]]:
    """isa/thumb_table.py's classify_at and isa/thumb_it.py's classify_it_block: the Python
    definitions, imported when first used (where the C ones are built, the pure-Python loop
    below is only run by tests: its modules are ~30 ms of a run's start-up)."""
    from mcusim.isa.thumb_it import classify_it_block
    from mcusim.isa.thumb_table import classify_at

    return classify_at, classify_it_block


def _native_decoder() -> ModuleType | None:
    """isa/native (mcusim.isa._thumb_decode): the table classifier and the fast loop below in
    C, giving the same InsnInfos; None when it was not built or `MCUSIM_NATIVE=0` asks for the
    pure-Python path (as for the native hot path, sim/accounting/native_lib.py)."""
    _thumb_decode = optional_extension("mcusim.isa._thumb_decode")
    if _thumb_decode is None:
        return None
    _thumb_decode.configure(InsnInfo, _shared, COND, ALWAYS)
    return _thumb_decode


NATIVE = _native_decoder()
# The classifier the slow path below uses (the same InsnInfos either way) and the C fast loop.
_classify_at = _python_classifiers()[0] if NATIVE is None else NATIVE.classify
_scan = None if NATIVE is None else NATIVE.scan
# Classified encodings without anything that depends on where they are (no branch, no target,
# not inside an IT block), by encoding: their InsnInfo fields after the address, what an
# instance at any address is made from. (The native memo is a dict's get/[]=/len/clear keyed
# by the encoding's integer value, which the C loop looks up without making bytes.)
_TAILS: dict[bytes, tuple] = {} if NATIVE is None else NATIVE.EncodingMemo()

# Runs capstone decoded (IT blocks with their instructions, mostly), by their bytes, for those
# that do not depend on their address: their instructions without the address.
_RUNS: dict[bytes, list[tuple]] = {}
_TEMPLATE_LIMIT = 1 << 18
_new = tuple.__new__
_CLASS = attrgetter("cls")


def _it_length(halfword: int) -> int:
    """Instructions an IT instruction makes conditional (0: `halfword` is no IT)."""
    mask = halfword & 0xF
    if halfword & 0xFF00 != 0xBF00 or not mask:
        return 0
    return 4 - (mask & -mask).bit_length() + 1


def classify_block(code: bytes, address: int) -> list[InsnInfo]:
    """The instructions of a block of Thumb code at `address`: what capstone's block decode
    with operand details classifies them to. Stops at the first instruction that does not
    decode."""
    return list(_classified(code, address))


@lru_cache(maxsize=1 << 16)
def _classified(code: bytes, address: int) -> tuple[InsnInfo, ...]:
    # A sweep that runs the same ELF many times in one process decodes each block once.
    # Many small objects, no cycles among them, all kept (base/heap.py).
    with made_at_once():
        return tuple(_by_encoding(code, address))


def _by_encoding(code: bytes, address: int) -> list[InsnInfo]:
    """The block's instructions, reusing the classification of an encoding seen before; each
    run of other encodings is classified by one `capstone_run` call (a run ends before an
    encoding it already holds, which is then reused)."""
    out: list[InsnInfo] = []
    tails = _TAILS
    pos, end = 0, len(code)
    run_start = -1  # start of the current run of new encodings
    pending: set[bytes] = set()  # encodings in the run
    conditional = 0  # instructions still to come inside an IT block
    append = out.append
    scan, classify = _scan, _classify_at
    while True:
        if run_start < 0 and not conditional and scan is not None:
            # The loop below, in C (isa/native/thumb_decode.c).
            pos, unknown = scan(code, pos, address, out, tails, _TEMPLATE_LIMIT)
            if unknown:  # capstone's: the run of such encodings starts here
                size = 4 if code[pos + 1] >= 0xE8 else 2
                run_start = pos
                pending.add(code[pos:pos + size])
                pos += size
                continue
        elif run_start < 0 and not conditional:
            classify_at, classify_it_block = _python_classifiers()
            # The common case, with none of the bookkeeping below: encodings seen before
            # (copied to this address), new ones the table classifier knows (used as it made
            # them) and IT blocks it knows (isa/thumb_it.py; never templates). It stops at
            # another IT instruction, at the end of the code, and at an encoding only capstone
            # knows, which starts a run below.
            while pos + 1 < end:
                size = 4 if code[pos + 1] >= 0xE8 else 2  # 32 bits: first halfword >= 0xE800
                encoding = code[pos:pos + size]
                tail = tails.get(encoding)
                if tail is not None:
                    append(_new(InsnInfo, (address + pos,) + tail))
                elif code[pos + 1] == 0xBF and code[pos] & 0xF:  # an IT instruction
                    block = classify_it_block(code, pos, address + pos)
                    if block is None:
                        break  # capstone decodes it with the instructions it makes conditional
                    out += block
                    pos += sum(i.size for i in block)
                    continue
                elif pos + size > end:
                    break  # a 32-bit encoding cut off by the end of the code
                else:
                    known = classify_at(code, pos, address + pos)
                    if known is None:  # capstone's: the run of such encodings starts here
                        run_start = pos
                        pending.add(encoding)
                        pos += size
                        break
                    if known.branch is None and known.target is None:
                        _keep(encoding, known)
                    append(known)
                pos += size
            if run_start >= 0:
                continue
        known = None
        flush = pos + 1 >= end  # the end of the code
        size = 2
        if not flush:
            hw = code[pos] | code[pos + 1] << 8
            if hw >= 0xE800:  # 32 bits (ARMv7-M A5.1: 0b11101, 0b11110, 0b11111)
                size = 4
            if conditional:
                conditional -= 1  # decoded with its IT instruction, in the same run
            elif hw & 0xFF00 == 0xBF00 and hw & 0xF:
                conditional = _it_length(hw)
            else:
                encoding = code[pos:pos + size]
                known = _at(tails.get(encoding), address + pos)
                if known is None:
                    if encoding in pending:
                        flush = True  # classified by the run: reused below
                    elif size == 2 or pos + 3 < end:
                        known = classify(code, pos, address + pos)
                        if known is not None and known.branch is None and known.target is None:
                            _keep(encoding, known)
            if known is None and not flush:
                if run_start < 0:
                    run_start = pos
                pending.add(code[pos:pos + size])
                pos += size
                continue
        if run_start >= 0:  # classify the run [run_start, pos)
            decoded = _capstone_run(code[run_start:pos], address + run_start)
            _remember(decoded, code, address)
            out += decoded
            if sum(i.size for i in decoded) != pos - run_start:
                return out  # an instruction in the run did not decode
            run_start = -1
            pending.clear()
            if known is None and pos + 1 < end:
                known = _at(tails.get(code[pos:pos + size]), address + pos)
                if known is None:  # (a branch: not reusable) it starts the next run
                    continue
        if known is None:
            return out  # the end of the code
        append(known)
        pos += size


def _at(tail: tuple | None, address: int) -> InsnInfo | None:
    """The classified encoding `tail` (from _TAILS) at `address`; None for None."""
    return None if tail is None else _new(InsnInfo, (address,) + tail)


def capstone_run(code: bytes, address: int) -> list[InsnInfo]:
    """isa/capstone_classify.py's `capstone_run`, imported when first needed (capstone's
    library is a good part of a short run's start-up, and code the table classifiers know
    needs none of it)."""
    from mcusim.isa.capstone_classify import capstone_run as run

    return run(code, address)


def _capstone_run(code: bytes, address: int) -> list[InsnInfo]:
    """`capstone_run`, memoised by the bytes for a run with nothing in it that depends on
    where it is (no branch, no target: what makes an encoding a template): generated code
    repeats its IT blocks (the clamps of requantisation) as runs of the same bytes."""
    tails = _RUNS.get(code)
    if tails is not None:
        out = []
        for tail in tails:  # the run's instructions follow each other from `address`
            out.append(_new(InsnInfo, (address,) + tail))
            address += tail[0]  # (its size)
        return out
    decoded = capstone_run(code, address)
    if all(i.branch is None and i.target is None for i in decoded):
        if len(_RUNS) >= _TEMPLATE_LIMIT:
            _RUNS.clear()
        _RUNS[code] = [i[1:] for i in decoded]
    return decoded


def _remember(decoded: list[InsnInfo], code: bytes, address: int) -> None:
    conditional = 0
    for info in decoded:
        offset = info.address - address
        encoding = code[offset:offset + info.size]
        if conditional:
            conditional -= 1
            continue
        if info.cls == "it":
            conditional = _it_length(encoding[0] | encoding[1] << 8)
            continue
        if info.branch is None and info.target is None:
            _keep(encoding, info)


def _keep(encoding: bytes, info: InsnInfo) -> None:
    if len(_TAILS) >= _TEMPLATE_LIMIT:
        _TAILS.clear()
    _TAILS[encoding] = info[1:]


def _native_index() -> ModuleType | None:
    """isa/native/decoded_span.c (mcusim.isa._decoded_span): DecodedSpan's index in C, the
    same lists and sets; None when it was not built or `MCUSIM_NATIVE=0`."""
    return optional_extension("mcusim.isa._decoded_span")


INDEX = _native_index()
_ADDRESS = attrgetter("address")


class DecodedSpan:
    """The instructions of a span of code, decoded linearly from its start (an undecodable
    halfword is stepped over), and which of them sit inside an IT block."""

    __slots__ = ("address", "code", "insns", "gaps", "_addresses", "_in_it")

    def __init__(self, address: int, code: bytes, insns: list[InsnInfo], gaps: list[int]):
        self.address = address
        self.code = code
        self.insns = insns
        # Indices of the instructions that do not start where the one before ends (an
        # undecodable halfword was stepped over before them), in order.
        self.gaps = gaps
        # The instructions' addresses (what `cut` bisects) and those of the instructions IT
        # instructions make conditional: in C in one pass when built (`_index_in_python` is
        # the definition; None from C: something it leaves to the definition).
        index = INDEX.index(insns, code, address) if INDEX is not None else None
        self._addresses, self._in_it = index or _index_in_python(insns, code, address)

    def inside_it(self, address: int) -> bool:
        """Whether the instruction at `address` is one an IT instruction makes conditional."""
        return address in self._in_it

    @property
    def end(self) -> int:
        return self.address + len(self.code)

    def block(self, address: int, code: bytes) -> list[InsnInfo] | None:
        """The instructions of the block `code` at `address` if it is a run of this span's
        instructions (same bytes, starting on one of its instructions and not inside an IT
        block, ending on an instruction boundary), else None: what `classify_block` gives
        for it, without decoding again."""
        cut = self.cut(address, code)
        return cut[0] if cut is not None else None

    def cut(self, address: int, code: bytes) -> tuple[list[InsnInfo], list[int]] | None:
        """`block`'s instructions and their addresses (a slice of the span's, not made again
        from the instructions), or None."""
        offset = address - self.address
        if offset < 0 or address + len(code) > self.end or address in self._in_it:
            return None
        if self.code[offset:offset + len(code)] != code:
            return None
        # By bisection (a block is translated once: an index of the whole span would be
        # built for a few hundred look-ups).
        addresses = self._addresses
        first = bisect_right(addresses, address) - 1
        if first < 0 or addresses[first] != address:
            return None
        stop = address + len(code)
        last = bisect_right(addresses, stop - 1, first)
        insns = self.insns[first:last]
        if not insns or insns[-1].address + insns[-1].size != stop:
            return None
        # No gap (an undecodable halfword the linear decode stepped over) inside the block:
        # none of the instructions after its first follows one.
        gaps = self.gaps
        k = bisect_right(gaps, first)
        if k < len(gaps) and gaps[k] < last:
            return None
        return insns, addresses[first:last]


def _index_in_python(insns: list[InsnInfo], code: bytes,
                     address: int) -> tuple[list[int], set[int]]:
    """DecodedSpan's index: the addresses of `insns`, and those of the instructions an IT
    instruction makes conditional."""
    in_it: set[int] = set()
    # Only the IT instructions are looked at (found by map/compress, in C): a block they
    # make conditional is the instructions after them (IT blocks never span a gap: they
    # are decoded together, by one capstone call).
    covered = 0  # instructions before this index are accounted for
    for k in compress(count(), map("it".__eq__, map(_CLASS, insns))):
        if k < covered:
            continue  # an IT inside an IT block is one of its conditional instructions
        offset = insns[k].address - address
        covered = k + 1 + _it_length(code[offset] | code[offset + 1] << 8)
        in_it.update(i.address for i in insns[k + 1:covered])
    return list(map(_ADDRESS, insns)), in_it


@lru_cache(maxsize=1 << 12)
def decode_span(address: int, code: bytes) -> DecodedSpan:
    """The span `code` at `address`, decoded once per process. (Hook placement decodes every
    span of the ELF before the run and the run's translated blocks are cut from the same
    spans again: the memo holds far more spans than an ELF has, so that none is decoded twice;
    generated code with many literal pools has over a hundred.)"""
    insns: list[InsnInfo] = []
    gaps: list[int] = []
    offset = 0
    with made_at_once():  # (base/heap.py)
        while offset + 2 <= len(code):
            decoded = _by_encoding(code[offset:] if offset else code, address + offset)
            if not decoded:
                offset += 2  # an undecodable halfword
                if insns and (not gaps or gaps[-1] != len(insns)):
                    gaps.append(len(insns))
                continue
            insns += decoded
            offset = decoded[-1].address + decoded[-1].size - address
        return DecodedSpan(address, code, insns, gaps)


def forget_decoded() -> None:
    """Drop every decode memo of this process (benchmarks of cold decoding)."""
    _classified.cache_clear()
    decode_span.cache_clear()
    _TAILS.clear()
    _RUNS.clear()
