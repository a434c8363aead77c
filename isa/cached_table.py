"""The instructions of a block read from the persistent block cache, given by indices into the
file's table of shapes (isa/block_cache.py), and the questions a warm run asks of them answered
from per-shape columns.

A warm run asks each block for its instruction count, its last instruction, its SP changes
(the accounting path's scan) and whether it holds instructions of a few classes; mostly none
of them needs the block's shapes, and looking every shape up touches tuples spread over the
whole table (a cache miss each, for every instruction of the run). So a block keeps its
indices, those answers come from small lists of one field per shape, and the shapes are
looked up only when an instruction is made (isa/cached_insns.py does the rest, unchanged).
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from operator import itemgetter

from mcusim.isa.cached_insns import CachedInsns, _make_insn
from mcusim.isa.cached_insns import _cls as _CLASS
from mcusim.isa.cached_insns import _size as _SIZE
from mcusim.isa.cached_insns import _sp_delta as _SP_DELTA
from mcusim.isa.classify import InsnInfo


class ShapeTable:
    """A file's shapes, and one column per field asked for, made when first asked for."""

    __slots__ = ("shapes", "_sizes", "_classes", "_sp_deltas")

    def __init__(self, shapes: list[tuple]):
        self.shapes = shapes  # (only ever extended: a column covers the blocks made before it)
        self._sizes: list[int] | None = None
        self._classes: list[str] | None = None
        self._sp_deltas: list[int | None] | None = None

    def sizes(self) -> list[int]:
        if self._sizes is None:
            self._sizes = list(map(_SIZE, self.shapes))
        return self._sizes

    def classes(self) -> list[str]:
        if self._classes is None:
            self._classes = list(map(_CLASS, self.shapes))
        return self._classes

    def sp_deltas(self) -> list[int | None]:
        if self._sp_deltas is None:
            self._sp_deltas = list(map(_SP_DELTA, self.shapes))
        return self._sp_deltas


class IndexedInsns(CachedInsns):
    """The instructions of a block at `address` whose shapes are `table`'s at `indices`."""

    __slots__ = ("_table", "_indices", "_looked_up", "_getter")

    def __init__(self, address: int, table: ShapeTable, indices: array):
        # (CachedInsns' fields but its shapes, which are looked up when asked for.)
        self._address = address
        self._list: list[InsnInfo] | None = None
        self._passes = 0
        self._classes: frozenset[str] | None = None
        self._table = table
        self._indices: array | None = indices
        self._looked_up: list[tuple] | None = None
        self._getter: Callable[[list], tuple] | None = None  # (made when first asked: _pick)

    def _pick(self, column: list) -> tuple:
        """The items of `column` (the shapes or one of their columns) at the indices, in one
        C call: an itemgetter of the indices, made once per block (a pass of map over the
        array would make an int object per instruction and call per item, for each question
        asked)."""
        getter = self._getter
        if getter is None:
            ks = self._indices.tolist() if self._indices is not None else []
            getter = self._getter = (itemgetter(*ks) if len(ks) > 1 else
                                     itemgetter(slice(ks[0], ks[0] + 1)) if ks else _nothing)
        return getter(column)

    @property  # type: ignore[override]  # (CachedInsns' field, looked up when first read)
    def _shapes(self) -> list[tuple] | None:
        if self._looked_up is None and self._indices is not None:
            self._looked_up = list(self._pick(self._table.shapes))
        return self._looked_up

    @_shapes.setter
    def _shapes(self, shapes: list[tuple] | None) -> None:
        self._looked_up = shapes
        if shapes is None:
            self._indices = None  # (materialized: CachedInsns keeps the list)

    def __len__(self) -> int:
        if self._list is not None:
            return len(self._list)
        return len(self._indices) if self._indices is not None else 0

    def last(self) -> InsnInfo | None:
        indices = self._indices
        if self._list is not None or not indices:
            return super().last()
        last = self._table.shapes[indices[-1]]
        at = self._address + sum(self._pick(self._table.sizes())) - last[0]
        return _make_insn((at,) + last)

    def of_classes(self, classes: tuple[str, ...]) -> list[InsnInfo]:
        if self._list is None and self._indices is not None:
            if self._classes is None:
                self._classes = frozenset(self._pick(self._table.classes()))
            if self._classes.isdisjoint(classes):
                return []
        return super().of_classes(classes)

    def sp_deltas(self) -> list[int | None]:
        if self._list is None and self._indices is not None:
            return list(self._pick(self._table.sp_deltas()))
        return super().sp_deltas()


def _nothing(column: list) -> tuple:
    """The items of a block without instructions."""
    return ()
