"""The instructions of a block read from the persistent block cache (isa/block_cache.py),
made into `InsnInfo`s when they are used.

Making an object per instruction is most of what a warm run spends (fresh memory: on this
machine each new page is a fault), and code that runs once mostly needs a block's
instructions once, in one pass at translation (the accounting path's scan of SP changes). So
the first pass builds them one at a time and keeps none (each reuses the memory of the one
before); indexing, slicing, or any later pass builds the list once and keeps it. Only the last
instruction (what the block's end is) and instructions of one class (WFI) are asked for
without building the rest.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import partial
from itertools import accumulate
from operator import add, attrgetter, itemgetter
from typing import overload

from mcusim.base.heap import made_at_once
from mcusim.base.native import optional_extension
from mcusim.isa.classify import InsnInfo

_make_insn = partial(tuple.__new__, InsnInfo)
_size = itemgetter(0)  # of a shape (an InsnInfo without its address): its size
_cls = itemgetter(2)
_sp_delta = itemgetter(-1)
_sp_delta_of = attrgetter("sp_delta")
_cls_of = attrgetter("cls")
# The C loops of class_set and sp_unchanged (None: not built, or MCUSIM_NATIVE=0).
_FACTS = optional_extension("mcusim.isa._decoded_span")


class CachedInsns(Sequence[InsnInfo]):
    """The instructions of a block at `address`, given by their shapes."""

    __slots__ = ("_address", "_shapes", "_list", "_passes", "_classes")

    def __init__(self, address: int, shapes: list[tuple]):
        self._address = address
        self._shapes: list[tuple] | None = shapes
        self._list: list[InsnInfo] | None = None
        self._passes = 0
        # The classes the block holds, made on the first question by class (several rules
        # ask, and most blocks hold none of the classes they ask for).
        self._classes: frozenset[str] | None = None

    def _made(self) -> Iterator[InsnInfo]:
        shapes = self._shapes
        assert shapes is not None
        # C loops only: addresses from the sizes, (address,) + shape, InsnInfo.
        return map(_make_insn, map(add, zip(accumulate(map(_size, shapes),
                                                       initial=self._address)), shapes))

    def materialize(self) -> list[InsnInfo]:
        if self._list is None:
            with made_at_once():  # new tuples only, no cycles, kept (base/heap.py)
                self._list = list(self._made())
            self._shapes = None
        return self._list

    def __len__(self) -> int:
        return len(self._list if self._list is not None else self._shapes or ())

    def __iter__(self) -> Iterator[InsnInfo]:
        if self._list is None and not self._passes:
            self._passes = 1
            return self._made()
        return iter(self.materialize())

    @overload
    def __getitem__(self, k: int) -> InsnInfo: ...

    @overload
    def __getitem__(self, k: slice) -> list[InsnInfo]: ...

    def __getitem__(self, k: int | slice) -> InsnInfo | list[InsnInfo]:
        return self.materialize()[k]

    def __eq__(self, other: object) -> bool:
        if isinstance(other, CachedInsns | list | tuple):
            return self.materialize() == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"CachedInsns({self.materialize()!r})"

    @property
    def address(self) -> int:
        """Where the first instruction is."""
        return self._address

    def last(self) -> InsnInfo | None:
        """The last instruction (None: no instructions)."""
        if self._list is not None or not self._shapes:
            return self._list[-1] if self._list else None
        shapes = self._shapes
        return _make_insn((self._address + sum(map(_size, shapes[:-1])),) + shapes[-1])

    def of_class(self, cls: str) -> list[InsnInfo]:
        """The instructions of class `cls`."""
        return self.of_classes((cls,))

    def of_classes(self, classes: tuple[str, ...]) -> list[InsnInfo]:
        """The instructions whose class is one of `classes`, in address order."""
        if self._list is not None:
            return [i for i in self._list if i.cls in classes]
        shapes = self._shapes or []
        if self._classes is None:
            self._classes = frozenset(map(_cls, shapes))
        if self._classes.isdisjoint(classes):
            return []
        out, at = [], self._address
        for shape in shapes:
            if shape[2] in classes:
                out.append(_make_insn((at,) + shape))
            at += shape[0]
        return out


    def sp_deltas(self) -> list[int | None]:
        """Each instruction's `sp_delta`, in order."""
        if self._list is not None:
            return [i.sp_delta for i in self._list]
        return list(map(_sp_delta, self._shapes or ()))


def class_set(insns: Sequence[InsnInfo]) -> frozenset[str]:
    """The classes of a block's instructions: one C loop over a list when the decoder's
    helpers are built (isa/native/decoded_span.c; None from C: anything but a list of
    InsnInfos, left to this definition)."""
    got = _FACTS.class_set(insns) if _FACTS is not None else None
    return got if got is not None else frozenset(map(_cls_of, insns))


def sp_unchanged(insns: Sequence[InsnInfo]) -> bool:
    """Whether no instruction of the block changes SP (every `sp_delta` is 0), without making
    a cached block's instructions: one C loop over a list when built."""
    got = _FACTS.sp_unchanged(insns) if _FACTS is not None else None
    if got is not None:
        return got
    deltas = sp_deltas(insns)
    return deltas.count(0) == len(deltas)


def sp_deltas(insns: Sequence[InsnInfo]) -> list[int | None]:
    """A block's `sp_delta`s in order, without making a cached block's instructions."""
    if isinstance(insns, CachedInsns):
        return insns.sp_deltas()
    return list(map(_sp_delta_of, insns))


def of_classes(insns: Sequence[InsnInfo], classes: tuple[str, ...]) -> list[InsnInfo]:
    """A block's instructions whose class is one of `classes`, in address order, in one pass
    and without making a cached block's others."""
    if isinstance(insns, CachedInsns):
        return insns.of_classes(classes)
    return [i for i in insns if i.cls in classes]
