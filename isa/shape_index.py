"""The shape index of the block cache (isa/block_cache.py): which stored shape (an
`InsnInfo`'s fields after its address) each instruction a run adds has, new shapes added.

Two ways to the same indices: `ShapeIndex.indices_of` in Python finds them a chunk of
instructions at a time in C-level passes (map/compress), and the optional extension
mcusim.isa._shape_index (isa/native/shape_index.c) in one pass per instruction, which
`sequential_indices` defines (tests compare the three). Used unless MCUSIM_NATIVE=0 or it was
not built. Both give every instruction a shape equal to its own; the chunked pass may order
the shapes of texts that share a string but not an object differently (file bytes, never
what a block reads back).
"""

from __future__ import annotations

from array import array
from collections.abc import Sequence
from itertools import accumulate, chain, compress, count, pairwise, repeat
from operator import is_, is_not, itemgetter
from types import ModuleType

from mcusim.base.native import optional_extension
from mcusim.isa.classify import InsnInfo

_TEXT = itemgetter(2)  # an InsnInfo's text (InsnInfo.text, without the attribute lookup)
_shape_text = itemgetter(1)  # (a shape is an InsnInfo's fields after the address)
_without_address = itemgetter(slice(1, None))  # an InsnInfo's shape
_CHUNK = 128  # instructions whose shapes are found together (see ShapeIndex.indices_of)


def _native_index() -> ModuleType | None:
    """isa/native/shape_index.c, or None (not built, or `MCUSIM_NATIVE=0`)."""
    return optional_extension("mcusim.isa._shape_index")


NATIVE = _native_index()


class ShapeIndex:
    """The index of each instruction's shape in `shapes` (a file's), new shapes added."""

    def __init__(self, shapes: list[tuple]):
        self.shapes = shapes
        self.by_text = {_shape_text(s): k for k, s in enumerate(shapes)}
        # Per shape, the text object of an instruction found to have it (isa/block_cache.py
        # says why); a shape read from a file has none yet (its text is marshal's object).
        self.checked: list[str | None] = [None] * len(shapes)
        self.by_shape: dict[tuple, int] | None = None  # made if two shapes share a text

    def indices_of(self, runs: list[Sequence[InsnInfo]]) -> list[bytes]:
        """The shape indices of each run of instructions as stored (uint32 bytes): in one C
        pass when it is built, else in Python, where runs are taken together up to _CHUNK
        instructions (a short block alone would cost more in calls than in instructions), not
        all at once (a pass over a chunk finds its instructions in the CPU's caches, where one
        pass over all of them would not)."""
        if NATIVE is not None:
            # One C pass (isa/native/shape_index.c): sequential_indices, the same shapes.
            return NATIVE.shape_indices(runs, self)
        out: list[bytes] = []
        group: list[Sequence[InsnInfo]] = []
        size = 0
        for k, insns in enumerate(runs):
            group.append(insns)
            size += len(insns)
            if size >= _CHUNK or k + 1 == len(runs):
                indices = self.indices(group[0] if len(group) == 1 else
                                       list(chain.from_iterable(group)))
                bounds = accumulate(map(len, group), initial=0)
                out += [indices[a:b].tobytes() for a, b in pairwise(bounds)]
                group, size = [], 0
        return out

    def indices(self, insns: Sequence[InsnInfo]) -> array:
        """The shape indices of `insns`, in C loops: a Python loop only over instructions of
        texts not seen before (a few per new text) and those whose text is not the object
        checked."""
        texts = list(map(_TEXT, insns))
        ks = list(map(self.by_text.get, texts))
        indices: array | None
        try:
            indices = array("I", ks)
        except TypeError:  # (a None: a text not seen)
            self._add_texts(insns, texts, ks)
            indices = None
        # (Over the list: reading the array would make an int object per instruction.)
        if not all(map(is_, texts, map(self.checked.__getitem__, ks))):
            self._settle(insns, texts, ks)
            indices = None
        return array("I", ks) if indices is None else indices

    def _add_texts(self, insns: Sequence[InsnInfo], texts: list[str],
                   ks: list[int | None]) -> None:
        """New shapes for the texts not seen (a shape holds its text): one per text."""
        shapes, by_text = self.shapes, self.by_text
        fresh = list(compress(count(), map(is_, ks, repeat(None))))
        made = dict(zip(map(texts.__getitem__, fresh), map(insns.__getitem__, fresh),
                        strict=True))
        base = len(shapes)
        shapes.extend(map(_without_address, made.values()))
        by_text.update(zip(made, count(base)))
        self.checked.extend(map(_TEXT, made.values()))
        if self.by_shape is not None:
            self.by_shape.update(zip(shapes[base:], count(base)))
        for n in fresh:
            ks[n] = by_text[texts[n]]

    def _settle(self, insns: Sequence[InsnInfo], texts: list[str], ks: list[int]) -> None:
        shapes, checked = self.shapes, self.checked
        # Instructions whose text is another object than the one checked: their whole shape.
        for n in list(compress(count(), map(is_not, texts, map(checked.__getitem__, ks)))):
            k, shape = ks[n], insns[n][1:]
            if shapes[k] != shape:
                k = ks[n] = self._index_of(shape)
            checked[k] = texts[n]

    def _settle_one(self, insn: InsnInfo, k: int | None) -> int:
        """One instruction of `sequential_indices` that is not a plain look-up: a text not
        seen (with `by_shape` kept), or a text whose checked object is another one."""
        shape = insn[1:]
        if k is None:
            k = self._add(shape)
        elif self.shapes[k] != shape:
            k = self._index_of(shape)
        self.checked[k] = insn[2]
        return k

    def _index_of(self, shape: tuple) -> int:
        if self.by_shape is None:  # (another shape has its text: rare, so made when needed)
            self.by_shape = {s: k for k, s in enumerate(self.shapes)}
        k = self.by_shape.get(shape)
        return self._add(shape) if k is None else k

    def _add(self, shape: tuple) -> int:
        k = len(self.shapes)
        self.shapes.append(shape)
        self.by_text.setdefault(_shape_text(shape), k)
        self.checked.append(None)
        if self.by_shape is not None:
            self.by_shape[shape] = k
        return k


def sequential_indices(index: ShapeIndex, runs: list[Sequence[InsnInfo]]) -> list[bytes]:
    """What the C pass computes, one instruction after another: a text looked up; a text not
    seen gets a shape made from this instruction (checked: its text); a text seen whose
    checked object is this text has that shape; any other is settled (its shape compared
    whole)."""
    out = []
    for run in runs:
        ks = array("I")
        for insn in run:
            k = index.by_text.get(insn[2])
            if k is not None and index.checked[k] is insn[2]:
                ks.append(k)
            elif k is None and index.by_shape is None:
                k = len(index.shapes)
                index.shapes.append(insn[1:])
                index.by_text[insn[2]] = k
                index.checked.append(insn[2])
                ks.append(k)
            else:
                ks.append(index._settle_one(insn, k))
        out.append(ks.tobytes())
    return out
