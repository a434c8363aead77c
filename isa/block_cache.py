"""A persistent cache of decoded and timed blocks, so code that runs once is decoded once.

Decoding a block and timing it is most of what a run spends on code it executes only once
(generated, unrolled TinyML code). Both depend only on the block's bytes and address, the
timing model (core table, options) and the code that decides them, so they are kept per ELF
image under the user's cache directory:

    $MCUSIM_CACHE_DIR, else $XDG_CACHE_HOME/mcusim, else ~/.cache/mcusim

one file per (ELF content hash, timing model, model code): `blocks-<hash>.marshal`. Block
entries are keyed by (address, bytes), so code the program writes at run time (RAM functions)
is never confused with the image's; the code hooks chosen before the run are kept per code
span. The format is compact so that reading it costs little next to the run: plain tuples
through `marshal` (no pickled objects), each distinct instruction shape (an `InsnInfo`
without its address) stored once and every block as indices into the shapes. A file is
written to a temporary name and renamed into place, so concurrent runs never read a partial
file (a writer merges what is there first; a lost entry is only decoded again).
`MCUSIM_BLOCK_CACHE=0` turns the cache off. An unreadable or foreign file is ignored.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import os
import tempfile
from array import array
from collections.abc import Sequence
from functools import lru_cache
from itertools import count, filterfalse
from operator import itemgetter
from pathlib import Path
from typing import Any

from mcusim.isa.cached_insns import CachedInsns
from mcusim.isa.classify import InsnInfo
from mcusim.isa.timing import BlockTiming

FORMAT = 3
# The code that decides what a block decodes and times to: a change to any of it is a new key.
_MODEL_SOURCES = ("classify.py", "decode.py", "cached_insns.py", "thumb_table.py", "thumb_wide.py",
                  "thumb_fields.py", "table_timing.py", "m7_issue.py", "m33_rules.py", "cycles.py",
                  "operand_timing.py", "timing.py", "block_cache.py")

# A block's instructions, timing, and static flash stalls per instruction (None: not in flash).
Entry = tuple[Sequence[InsnInfo], BlockTiming, list[int] | None]
# Code hooks chosen for a span: per block of one or two instructions, its instructions and
# operand-timed rules.
HookBlocks = list[tuple[Sequence[InsnInfo], dict[int, str]]]
# Stored per block: shape indices (array of uint32 as bytes), cycles, taken_extra, entry_extra,
# dynamic, stalls.
_Stored = tuple[bytes, list[int], int, int, dict[int, str], list[int] | None]
_new = tuple.__new__
_without_address = itemgetter(slice(1, None))  # an InsnInfo's shape


def cache_directory() -> Path | None:
    """Where cache files live, or None when the cache is off."""
    if os.environ.get("MCUSIM_BLOCK_CACHE", "1") == "0":
        return None
    explicit = os.environ.get("MCUSIM_CACHE_DIR")
    if explicit:
        return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcusim"


def read_path_key(flash: Any) -> str:  # noqa: ANN401 - a memory.flash.FlashInterface
    """What a flash read path's static stalls depend on."""
    r = flash.region
    return (f"flash {r.name} {r.base:#x} {r.size:#x} {tuple(r.aliases)} ws={flash.ws} "
            f"line={flash.line_bytes} prefetch={flash.prefetch} all={flash.fills_all}")


@lru_cache(maxsize=1)
def _model_fingerprint() -> str:
    import capstone

    h = hashlib.sha256(f"{FORMAT} capstone {capstone.__version__}".encode())
    here = Path(__file__).parent
    for name in _MODEL_SOURCES:
        if (here / name).is_file():
            h.update((here / name).read_bytes())
    return h.hexdigest()


class BlockCache:
    """Decoded, timed blocks of one ELF image under one timing model."""

    def __init__(self, path: Path | None):
        self.path = path
        self._blocks: dict[tuple[int, bytes], _Stored] = {}
        # Per span: (first address, shape indices) of each hook block, and its rules.
        self._hooks: dict[tuple[int, int, str],
                          tuple[list[tuple[int, bytes]], list[dict[int, str]]]] = {}
        self._shapes: list[tuple] = []  # InsnInfo fields after the address
        self._shape_index: dict[tuple, int] | None = None  # made when a block is added
        self._loaded = path is None
        self._added = 0

    @classmethod
    def for_image(cls, image: Path, timing_key: str) -> BlockCache:
        """The cache of the ELF file `image` timed by the model and the flash read paths that
        `timing_key` describes."""
        directory = cache_directory()
        if directory is None:
            return cls(None)
        h = hashlib.sha256(image.read_bytes())
        h.update(timing_key.encode())
        h.update(_model_fingerprint().encode())
        return cls(directory / f"blocks-{h.hexdigest()[:32]}.marshal")

    # -- blocks ---------------------------------------------------------------------------
    def get(self, address: int, code: bytes) -> Entry | None:
        if not self._loaded:
            self._load()
        stored = self._blocks.get((address, code))
        if stored is None:
            return None
        indices, cycles, taken_extra, entry_extra, dynamic, stalls = stored
        # The instructions are made when used (isa/cached_insns.py).
        insns = CachedInsns(address, list(map(self._shapes.__getitem__, array("I", indices))))
        return (insns, BlockTiming(list(cycles), taken_extra, entry_extra, dict(dynamic)),
                stalls)

    def put(self, address: int, code: bytes, entry: Entry) -> None:
        if self.path is None:
            return
        insns, t, stalls = entry
        self._blocks[(address, code)] = (self._indices(insns), list(t.cycles), t.taken_extra,
                                         t.entry_extra, dict(t.dynamic), stalls)
        self._added += 1

    def _indices(self, insns: Sequence[InsnInfo]) -> bytes:
        """The shape indices of `insns` (as stored: uint32 bytes), new shapes added. The
        lookups are C loops (map) over the block: this runs for every instruction of a run
        that fills the cache."""
        if self._shape_index is None:
            self._shape_index = {s: k for k, s in enumerate(self._shapes)}
        index = self._shape_index
        shapes = list(map(_without_address, insns))
        fresh = dict.fromkeys(filterfalse(index.__contains__, shapes))  # new, in order, once
        if fresh:
            index.update(zip(fresh, count(len(self._shapes))))
            self._shapes.extend(fresh)
        return array("I", map(index.__getitem__, shapes)).tobytes()

    # -- code hooks chosen per span ---------------------------------------------------------
    def hooks(self, address: int, size: int, selection: str) -> HookBlocks | None:
        """The hook blocks chosen for the span at `address` by the rules `selection` names."""
        if not self._loaded:
            self._load()
        stored = self._hooks.get((address, size, selection))
        if stored is None:
            return None
        runs, dynamic = stored
        shapes = self._shapes
        # Made when used, like a block's (isa/cached_insns.py).
        return [(CachedInsns(first, list(map(shapes.__getitem__, array("I", indices)))),
                 dict(d)) for (first, indices), d in zip(runs, dynamic, strict=True)]

    def put_hooks(self, address: int, size: int, selection: str, blocks: HookBlocks) -> None:
        if self.path is None:
            return
        self._hooks[(address, size, selection)] = (
            [(insns[0].address, self._indices(insns)) for insns, _ in blocks],
            [dict(d) for _, d in blocks])
        self._added += 1

    # -- the file -------------------------------------------------------------------------
    def _load(self) -> None:
        self._loaded = True
        assert self.path is not None
        collecting = gc.isenabled()
        gc.disable()  # many small tuples and no cycles: the collector would only slow it down
        try:
            with open(self.path, "rb") as f:
                data = marshal.loads(f.read())  # (marshal.load reads a file piecemeal)
        except (OSError, EOFError, ValueError, TypeError):
            return  # no file yet, or one this version cannot read: decode again
        finally:
            if collecting:
                gc.enable()
        if not (isinstance(data, dict) and data.get("format") == FORMAT):
            return
        try:
            shapes, blocks, hooks = data["shapes"], data["blocks"], data["hooks"]
        except KeyError:
            return
        if self._blocks or self._hooks:  # entries added before the load are kept (newer)
            mine = {key: self._entry_shapes(v) for key, v in self._blocks.items()}
            my_hooks = {key: self._hooks_of(v) for key, v in self._hooks.items()}
            self._shapes, self._shape_index = list(shapes), None
            for (address, code), (insns, t, stalls) in mine.items():
                self.put(address, code, (insns, t, stalls))
                self._added -= 1
            for (address, size, selection), runs in my_hooks.items():
                self.put_hooks(address, size, selection, runs)
                self._added -= 1
            self._blocks = {**blocks, **self._blocks}
            self._hooks = {**hooks, **self._hooks}
        else:
            self._shapes, self._blocks, self._hooks = shapes, blocks, hooks

    def _hooks_of(self, stored: tuple[list[tuple[int, bytes]], list[dict[int, str]]]) -> HookBlocks:
        runs, dynamic = stored
        shapes = self._shapes
        return [(CachedInsns(first, [shapes[k] for k in array("I", indices)]).materialize(),
                 dict(d)) for (first, indices), d in zip(runs, dynamic, strict=True)]

    def _entry_shapes(self, stored: _Stored) -> Entry:
        """A stored block back as an entry, with this cache's current shapes."""
        indices, cycles, taken_extra, entry_extra, dynamic, stalls = stored
        shapes = self._shapes
        insns = [_new(InsnInfo, (0, *shapes[k])) for k in array("I", indices)]
        return insns, BlockTiming(cycles, taken_extra, entry_extra, dynamic), stalls

    def save(self) -> None:
        """Write the file if this run added blocks (atomically: temporary file, rename)."""
        if self.path is None or not self._added:
            return
        if not self._loaded:
            self._load()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
            with os.fdopen(fd, "wb") as f:
                marshal.dump({"format": FORMAT, "shapes": self._shapes,
                              "blocks": self._blocks, "hooks": self._hooks}, f)
            os.replace(tmp, self.path)
        except (OSError, ValueError):
            return  # a read-only or full cache directory only costs speed (mkstemp's file,
            # if any, is left for the next save to replace)
        self._added = 0
