"""A persistent cache of decoded and timed blocks, so code that runs once is decoded once.

Decoding a block and timing it is most of what a run spends on code it executes only once
(generated, unrolled TinyML code). Both depend only on the block's bytes and address, the
timing model (core table, options) and the code that decides them, so they are kept per ELF
image in mcusim's cache directory (base/cache_home.py: $MCUSIM_CACHE_DIR, else
$XDG_CACHE_HOME/mcusim, else ~/.cache/mcusim, kept under $MCUSIM_CACHE_MAX, least recently used
files going first), one file per (ELF content hash, timing model, model code):
`blocks-<hash>.marshal`. Block entries are keyed by (address, bytes), so code the program
writes at run time (RAM functions) is never confused with the image's; the code hooks chosen
before the run are kept per code span. The format is compact so that reading it costs little
next to the run: plain tuples through `marshal` (no pickled objects), each distinct instruction
shape (an `InsnInfo` without its address) stored once, every block as indices into the shapes,
its cycles as bytes; a block read back keeps its indices and answers what a run asks of it from
columns of the shapes (isa/cached_table.py), and what is read goes to the collector's oldest
generation at once (`_loads`). A file is written to a temporary name and renamed into place, so
concurrent runs never read a partial file; a writer first merges what another run wrote since
it read the file (a lost entry is only decoded again). `MCUSIM_BLOCK_CACHE=0` turns the cache
off. An unreadable or foreign file is ignored.

Filling the cache must cost little next to the run that decodes the blocks: a block added
is kept as it is until `save`, which finds the shapes of all instructions added, a few
blocks at a time, with the collector off, by their text (a string, its hash kept) in C
loops. The shape a text points to is taken as the instruction's when the instruction's text
is the very object of the instruction the shape was made from or compared with:
isa/decode.py makes a classification's text once and every instance of a classified
encoding from one tuple of fields, so instructions that share a text object differ only in
their address (a test checks it). Any other instruction's shape is compared whole: none
gets a shape it does not have.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import importlib.util
import marshal
import os
import tempfile
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import repeat
from pathlib import Path
from typing import Any

from mcusim.base.cache_home import cache_home, cache_limit, mark_used, trim
from mcusim.base.heap import made_at_once, may_promote
from mcusim.isa.cached_table import IndexedInsns, ShapeTable
from mcusim.isa.classify import InsnInfo
from mcusim.isa.shape_index import ShapeIndex
from mcusim.isa.timing import BlockTiming

FORMAT = 4
# The code that decides what a block decodes and times to: a change to any of it is a new key.
# Every module of isa/ and the native decoder's sources (isa/native/): a module added to the
# decoder or the cycle model is covered without being listed.
_MODEL_SOURCES = ("*.py", "native/*.c", "native/*.h")

# A block's instructions, timing, and static flash stalls per instruction (None: not in flash).
Entry = tuple[Sequence[InsnInfo], BlockTiming, list[int] | None]
# Code hooks chosen for a span: per block of one or two instructions, its instructions and
# operand-timed rules.
HookBlocks = list[tuple[Sequence[InsnInfo], dict[int, str]]]
# Stored per block: shape indices (uint32 bytes), cycles, taken_extra, entry_extra, dynamic,
# stalls (None: not in flash); cycles and stalls as bytes (a list if a value does not fit).
_Ints = bytes | list[int]
_Stored = tuple[bytes, _Ints, int, int, dict[int, str], _Ints | None]
# Stored per span: (first address, shape indices) of each hook block, and its rules.
_StoredHooks = tuple[list[tuple[int, bytes]], list[dict[int, str]]]
_BlockKey = tuple[int, bytes]
_HookKey = tuple[int, int, str]


def cache_directory() -> Path | None:
    """Where cache files live, or None when the cache is off."""
    if os.environ.get("MCUSIM_BLOCK_CACHE", "1") == "0":
        return None
    return cache_home()


def read_path_key(flash: Any) -> str:  # noqa: ANN401 - a memory.flash.FlashInterface
    """What a flash read path's static stalls depend on."""
    r = flash.region
    return (f"flash {r.name} {r.base:#x} {r.size:#x} {tuple(r.aliases)} ws={flash.ws} "
            f"line={flash.line_bytes} prefetch={flash.prefetch} all={flash.fills_all}")


@lru_cache(maxsize=1)
def _model_fingerprint() -> str:
    h = hashlib.sha256(f"{FORMAT}".encode())
    # Capstone decides what the table classifiers do not: its version (in its package's
    # __init__.py) is part of the key, read without importing capstone, which would load its
    # library at start-up for a run that may decode nothing.
    spec = importlib.util.find_spec("capstone")
    if spec is not None and spec.origin is not None:
        h.update(Path(spec.origin).read_bytes())
    here = Path(__file__).parent
    for pattern in _MODEL_SOURCES:
        for path in sorted(here.glob(pattern)):
            h.update(path.name.encode())
            h.update(path.read_bytes())
    return h.hexdigest()


class BlockCache:
    """Decoded, timed blocks of one ELF image under one timing model."""

    def __init__(self, path: Path | None, limit: int | None = None):
        self.path = path
        self.limit = limit  # the cache directory's size limit, kept at each save (None: none)
        # As read from the file (or written by this cache's last save).
        self._shapes: list[tuple] = []  # InsnInfo fields after the address
        self._blocks: dict[_BlockKey, _Stored] = {}
        self._hooks: dict[_HookKey, _StoredHooks] = {}
        self._stamp: tuple[int, int, int] | None = None  # the file's, when read or written
        self._table: ShapeTable | None = None  # the shapes' columns (made for _shapes)
        # Added by this run, as given (save stores them).
        self._new_blocks: dict[_BlockKey, Entry] = {}
        self._new_hooks: dict[_HookKey, HookBlocks] = {}
        self._loaded = path is None

    @classmethod
    def for_image(cls, image: Path, timing_key: str) -> BlockCache:
        """The cache of the ELF file `image` timed by the model and the flash read paths that
        `timing_key` describes."""
        directory = cache_directory()
        if directory is None:
            return cls(None)
        limit = cache_limit()  # (a bad $MCUSIM_CACHE_MAX is told before the run, not after)
        h = hashlib.sha256(image.read_bytes())
        h.update(timing_key.encode())
        h.update(_model_fingerprint().encode())
        path = directory / f"blocks-{h.hexdigest()[:32]}.marshal"
        if not path.exists() and not _seen_before(path.with_suffix(".seen")):
            return cls(None)  # the image's first run: no file (_seen_before says why)
        return cls(path, limit)

    # -- blocks ---------------------------------------------------------------------------
    def get(self, address: int, code: bytes) -> Entry | None:
        if not self._loaded:
            self._load()
        key = (address, code)
        stored = self._blocks.get(key)
        if stored is None:
            added = self._new_blocks.get(key)  # (translated again in the run that added it)
            return None if added is None else _copy(added)
        try:
            indices, cycles, taken_extra, entry_extra, dynamic, stalls = stored
            # The instructions are made when used (isa/cached_table.py).
            insns = self._insns(address, indices)
            return (insns, BlockTiming(list(cycles), taken_extra, entry_extra, dict(dynamic)),
                    None if stalls is None else list(stalls))
        except (ValueError, TypeError, IndexError):
            return None  # not what this version writes: decoded again (and replaced)

    def _insns(self, address: int, indices: bytes) -> IndexedInsns:
        """The instructions at `address` of the shapes at `indices` (uint32 bytes)."""
        if self._table is None or self._table.shapes is not self._shapes:
            self._table = ShapeTable(self._shapes)
        at = array("I", indices)
        if at and max(at) >= len(self._shapes):
            raise IndexError("a shape the file does not hold")
        return IndexedInsns(address, self._table, at)

    def put(self, address: int, code: bytes, entry: Entry) -> None:
        if self.path is not None:
            # Kept as given until save (the caller changes none of it after).
            self._new_blocks[(address, code)] = entry

    # -- code hooks chosen per span ---------------------------------------------------------
    def hooks(self, address: int, size: int, selection: str) -> HookBlocks | None:
        """The hook blocks chosen for the span at `address` by the rules `selection` names."""
        if not self._loaded:
            self._load()
        key = (address, size, selection)
        stored = self._hooks.get(key)
        if stored is None:
            added = self._new_hooks.get(key)
            return None if added is None else [(list(i), dict(d)) for i, d in added]
        try:
            runs, dynamic = stored
            # Made when used, like a block's (isa/cached_table.py).
            return [(self._insns(first, indices), dict(d))
                    for (first, indices), d in zip(runs, dynamic, strict=True)]
        except (ValueError, TypeError, IndexError):
            return None

    def put_hooks(self, address: int, size: int, selection: str, blocks: HookBlocks) -> None:
        if self.path is not None:
            self._new_hooks[(address, size, selection)] = list(blocks)

    # -- the file -------------------------------------------------------------------------
    def _load(self) -> None:
        """Read the file (what is not readable as this format's is no file)."""
        self._loaded = True
        assert self.path is not None
        self._shapes, self._blocks, self._hooks, self._stamp = [], {}, {}, None
        try:
            with open(self.path, "rb") as f:
                raw = f.read()  # (marshal.load would read the file piecemeal)
                self._stamp = _stamp(os.fstat(f.fileno()))
        except OSError:
            return  # no file yet: decode
        mark_used(self.path)
        data = _loads(raw)
        if not (isinstance(data, dict) and data.get("format") == FORMAT):
            return
        shapes, blocks, hooks = data.get("shapes"), data.get("blocks"), data.get("hooks")
        if (isinstance(shapes, list) and isinstance(blocks, dict) and isinstance(hooks, dict)
                and _are_shapes(shapes)):
            self._shapes, self._blocks, self._hooks = shapes, blocks, hooks

    def save(self) -> None:
        """Write the file if this run added blocks or hooks (atomically: temporary file,
        rename), with what another run wrote to it since it was read."""
        if self.path is None or not (self._new_blocks or self._new_hooks):
            return
        if not self._loaded or self._stamp != _stamp_of(self.path):
            self._load()
        # New tuples, lists and bytes, no cycles, all kept: a collection now would only walk
        # the run's heap, and one after would walk them (base/heap.py).
        with made_at_once():
            added = [insns for insns, _, _ in self._new_blocks.values()]
            added += [insns for runs in self._new_hooks.values() for insns, _ in runs]
            self._table = None  # (its columns would not cover the shapes added now)
            try:
                index = ShapeIndex(self._shapes)
            except (TypeError, IndexError):  # shapes that are none: the file is no cache
                self._shapes, self._blocks, self._hooks = [], {}, {}
                index = ShapeIndex(self._shapes)
            encoded = iter(index.indices_of(added))
            blocks = {key: (next(encoded), _pack(t.cycles), t.taken_extra, t.entry_extra,
                            t.dynamic, None if stalls is None else _pack(stalls))
                      for key, (insns, t, stalls) in self._new_blocks.items()}
            hooks = {key: ([(insns[0].address, next(encoded)) for insns, _ in runs],
                           [d for _, d in runs])
                     for key, runs in self._new_hooks.items()}
            # (This run's entry for a key is the newer one.)
            blocks, hooks = {**self._blocks, **blocks}, {**self._hooks, **hooks}
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
                with os.fdopen(fd, "wb") as f:
                    marshal.dump({"format": FORMAT, "shapes": self._shapes, "blocks": blocks,
                                  "hooks": hooks}, f)
                    f.flush()
                    stamp = _stamp(os.fstat(f.fileno()))  # (a rename keeps inode and times)
                os.replace(tmp, self.path)
            except (OSError, ValueError):
                return  # a read-only or full cache directory only costs speed (what was added
                # is kept for the next save; mkstemp's file, if any, is left for it to replace)
        self._blocks, self._hooks, self._stamp = blocks, hooks, stamp
        self._new_blocks, self._new_hooks = {}, {}
        trim(self.path.parent, self.limit)


def _seen_before(marker: Path) -> bool:
    """Whether an earlier run of this image (and model) left `marker`; leaves it if not. A
    cache file is written from an image's second run on: filling costs more than a later warm
    run saves (a quarter of a cold run's CPU time on 100,000 straight-line instructions, which
    a warm run gains back over two runs; on the unrolled CNN it never does), and most images
    `mcusim nn` and `mcusim dse` build run once. An image's first run costs what a run
    without the cache does, plus an empty marker file (a `blocks-` file: trimmed and cleared
    with the others)."""
    if marker.exists():
        mark_used(marker)
        return True
    with contextlib.suppress(OSError):  # (a cache directory that cannot be written: no cache)
        marker.parent.mkdir(parents=True, exist_ok=True)
        marker.touch()
    return False


def _loads(raw: bytes) -> Any:  # noqa: ANN401 - what the file holds, checked by the caller
    """The file's objects, moved to the collector's oldest generation at once. They are many
    small tuples, all kept to the end of the run: left young, the collector would walk them
    twice before it knows (once young, once middle-aged), a tenth of a warm run. Young
    garbage is collected first, so that only live objects are moved with them; a program
    that froze objects itself (gc.freeze) is left alone."""
    if gc.isenabled() and may_promote():
        gc.collect(1)
    with made_at_once():  # (base/heap.py)
        try:
            return marshal.loads(raw)
        except (EOFError, ValueError, TypeError):
            return None  # a file this version cannot read: decode again


_SHAPE_LENGTH = len(InsnInfo._fields) - 1  # a shape: an InsnInfo's fields after the address


def _are_shapes(shapes: list) -> bool:
    """Whether every item is a tuple of a shape's length: an instruction made from one that
    is not would fail only where the run reads it (in C loops: about 2 ms for the 21,939
    shapes of the 100,000-instruction benchmark)."""
    return (all(map(isinstance, shapes, repeat(tuple)))
            and all(map(_SHAPE_LENGTH.__eq__, map(len, shapes))))


def _copy(entry: Entry) -> Entry:
    insns, t, stalls = entry
    return (list(insns), BlockTiming(list(t.cycles), t.taken_extra, t.entry_extra,
                                     dict(t.dynamic)), None if stalls is None else list(stalls))


def _pack(values: Sequence[int]) -> _Ints:
    """Cycles or stalls as stored: bytes when each fits in one (they nearly always do)."""
    try:
        return bytes(values)
    except ValueError:
        return list(values)


def _stamp(st: os.stat_result) -> tuple[int, int, int]:
    return (st.st_ino, st.st_size, st.st_mtime_ns)


def _stamp_of(path: Path) -> tuple[int, int, int] | None:
    try:
        return _stamp(os.stat(path))
    except OSError:
        return None
