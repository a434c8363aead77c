"""A persistent cache of decoded and timed blocks, so code that runs once is decoded once.

Decoding a block with capstone's operand details and timing it is most of what a run spends
on code it executes only once (generated, unrolled TinyML code). Both depend only on the
block's bytes and address, the timing model (core table, options) and the code that decides
them, so they are kept per ELF image under the user's cache directory:

    $MCUSIM_CACHE_DIR, else $XDG_CACHE_HOME/mcusim, else ~/.cache/mcusim

one file per (ELF content hash, timing model, model code): `blocks-<hash>.pickle`. Entries are
keyed by (address, bytes), so code the program writes at run time (RAM functions) is never
confused with the image's. A file is written to a temporary name and renamed into place, so
concurrent runs never read a partial file (the last writer wins; a lost entry is only decoded
again). `MCUSIM_BLOCK_CACHE=0` turns the cache off. An unreadable or foreign file is ignored.
"""

from __future__ import annotations

import gc
import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import Any

from mcusim.isa.classify import InsnInfo
from mcusim.isa.timing import BlockTiming

FORMAT = 1
# The code that decides what a block decodes and times to: a change to any of it is a new key.
_MODEL_SOURCES = ("classify.py", "table_timing.py", "m7_issue.py", "m33_rules.py", "cycles.py",
                  "operand_timing.py", "timing.py", "block_cache.py")

# A block's instructions, timing, and static flash stalls per instruction (None: not in flash).
Entry = tuple[list[InsnInfo], BlockTiming, list[int] | None]
# What a file holds per block (InsnInfo pickles as a call of tuple.__new__).
_Stored = tuple[tuple[InsnInfo, ...], list[int], int, int, dict[int, str], list[int] | None]


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
        h.update((here / name).read_bytes())
    return h.hexdigest()


class BlockCache:
    """Decoded, timed blocks of one ELF image under one timing model."""

    def __init__(self, path: Path | None):
        self.path = path
        self._entries: dict[tuple[int, bytes], _Stored] = {}
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
        return cls(directory / f"blocks-{h.hexdigest()[:32]}.pickle")

    def get(self, address: int, code: bytes) -> Entry | None:
        if not self._loaded:
            self._load()
        stored = self._entries.get((address, code))
        if stored is None:
            return None
        insns, cycles, taken_extra, entry_extra, dynamic, stalls = stored
        return (list(insns),
                BlockTiming(list(cycles), taken_extra, entry_extra, dict(dynamic)), stalls)

    def put(self, address: int, code: bytes, entry: Entry) -> None:
        if self.path is None:
            return
        insns, t, stalls = entry
        self._entries[(address, code)] = (tuple(insns), list(t.cycles),
                                          t.taken_extra, t.entry_extra, dict(t.dynamic), stalls)
        self._added += 1

    def _load(self) -> None:
        self._loaded = True
        assert self.path is not None
        collecting = gc.isenabled()
        gc.disable()  # many small tuples and no cycles: the collector would only slow it down
        try:
            with open(self.path, "rb") as f:
                data = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError,
                TypeError, ImportError, IndexError):
            return  # no file yet, or one this version cannot read: decode again
        finally:
            if collecting:
                gc.enable()
        if isinstance(data, dict) and data.get("format") == FORMAT:
            self._entries = {**data["entries"], **self._entries}

    def save(self) -> None:
        """Write the file if this run added blocks (atomically: temporary file, rename)."""
        if self.path is None or not self._added:
            return
        if not self._loaded:
            self._load()  # (entries added before a load are kept: they are newer)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=self.path.name + ".", dir=self.path.parent)
            collecting = gc.isenabled()
            gc.disable()  # pickling allocates nothing that lives on, and the heap is large
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump({"format": FORMAT, "entries": self._entries}, f,
                                protocol=pickle.HIGHEST_PROTOCOL)
            finally:
                if collecting:
                    gc.enable()
            os.replace(tmp, self.path)
        except OSError:
            return  # a read-only or full cache directory only costs speed (mkstemp's file,
            # if any, is left for the next save to replace)
        self._added = 0
