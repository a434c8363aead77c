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

    __slots__ = ("_table", "_indices", "_looked_up")

    def __init__(self, address: int, table: ShapeTable, indices: array):
        # (CachedInsns' fields but its shapes, which are looked up when asked for.)
        self._address = address
        self._list: list[InsnInfo] | None = None
        self._passes = 0
        self._classes: frozenset[str] | None = None
        self._table = table
        self._indices: array | None = indices
        self._looked_up: list[tuple] | None = None

    @property  # type: ignore[override]  # (CachedInsns' field, looked up when first read)
    def _shapes(self) -> list[tuple] | None:
        if self._looked_up is None and self._indices is not None:
            self._looked_up = list(map(self._table.shapes.__getitem__, self._indices))
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
        sizes = self._table.sizes()
        at = self._address + sum(map(sizes.__getitem__, indices[:-1]))
        return _make_insn((at,) + self._table.shapes[indices[-1]])

    def of_classes(self, classes: tuple[str, ...]) -> list[InsnInfo]:
        if self._list is None and self._indices is not None:
            if self._classes is None:
                self._classes = frozenset(map(self._table.classes().__getitem__, self._indices))
            if self._classes.isdisjoint(classes):
                return []
        return super().of_classes(classes)

    def sp_deltas(self) -> list[int | None]:
        if self._list is None and self._indices is not None:
            return list(map(self._table.sp_deltas().__getitem__, self._indices))
        return super().sp_deltas()
