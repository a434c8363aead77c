"""The one directory mcusim keeps its caches in (the block cache's files, the model builds under
nn/), decided by one rule as the XDG base-directory convention has it, and kept under a size
limit as ccache keeps its own:

    $MCUSIM_CACHE_DIR, else $MCUSIM_CACHE (the name the model builds' cache had before
    both went here), else $XDG_CACHE_HOME/mcusim, else ~/.cache/mcusim
    at most $MCUSIM_CACHE_MAX bytes ("512M", "2G"; 0: no limit), 1 GiB by default

Before this, the model builds' cache read only $MCUSIM_CACHE and ignored $XDG_CACHE_HOME,
while the block cache read $MCUSIM_CACHE_DIR; and neither was ever trimmed, though every ELF
run adds a block file and every model or DSE candidate built adds a build (a few hundred KB
each: a design-space exploration adds hundreds).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from pathlib import Path

from mcusim.base.errors import UsageError
from mcusim.base.units import parse_size

DEFAULT_MAX_BYTES = 1 << 30
# Trimmed to this share of the limit, so that trimming is not needed again at the next write.
_TRIM_TO = 0.9
# Entries used more recently than this are kept whatever the size: a concurrent run may be
# about to read them (a build it found, the kernel objects a build links).
_IN_USE_SECONDS = 60.0


def cache_home() -> Path:
    """Where mcusim's caches live (created by whoever writes there first)."""
    for name in ("MCUSIM_CACHE_DIR", "MCUSIM_CACHE"):
        explicit = os.environ.get(name)
        if explicit:
            return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcusim"


def cache_home_problem(home: Path) -> str | None:
    """Why `home` cannot be mcusim's cache directory (a file is there, or a file in place of
    one of its parents), or None. The block cache then runs without it; what needs it (the
    model builds, `mcusim cache clear`) says so."""
    for folder in (home, *home.parents):
        if folder.exists():
            if folder.is_dir():
                return None
            setting = next((f"${name}={os.environ[name]}" for name in
                            ("MCUSIM_CACHE_DIR", "MCUSIM_CACHE", "XDG_CACHE_HOME")
                            if os.environ.get(name)), "the default ~/.cache/mcusim")
            return (f"mcusim's cache directory {home} ({setting}) cannot be made: {folder} "
                    "is a file, not a directory")
    return None


def cache_limit() -> int | None:
    """$MCUSIM_CACHE_MAX in bytes (None: no limit)."""
    value = os.environ.get("MCUSIM_CACHE_MAX", "").strip()
    if not value:
        return DEFAULT_MAX_BYTES
    try:
        limit = parse_size(value)
    except ValueError:
        raise UsageError(f"MCUSIM_CACHE_MAX={value!r}: expected a size such as 512M or 2G (0 "
                         "for no limit), the most mcusim's cache directory may hold") from None
    return limit or None


def mark_used(path: Path) -> None:
    """Record that `path` (a cache file, or a build's marker file) was just used: its access
    time, which trimming orders by (set explicitly: file systems mounted relatime or noatime
    do not keep it; the modification time, which the block cache compares, is left as is)."""
    with contextlib.suppress(OSError):  # a read-only cache directory is still read
        os.utime(path, ns=(time.time_ns(), os.stat(path).st_mtime_ns))


def trim(home: Path, limit: int | None) -> None:
    """Delete the least recently used entries of the cache directory `home` (block files, and
    builds under nn/) until it holds at most 90% of `limit` bytes; entries used in the last
    minute are kept."""
    if limit is None:
        return
    entries = _entries(home)
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return
    now = time.time()
    for used, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= limit * _TRIM_TO:
            break
        if now - used >= _IN_USE_SECONDS and _remove(path):
            total -= size


def usage(home: Path) -> tuple[tuple[int, int], tuple[int, int]]:
    """(count, bytes) of the block files and of the builds in the cache directory `home` (the
    empty markers of images run once, isa/block_cache.py, are not counted)."""
    blocks = [b for b in _block_files(home) if b[2].suffix != ".seen"]
    builds = _builds(home / "nn")
    return ((len(blocks), sum(size for _, size, _ in blocks)),
            (len(builds), sum(size for _, size, _ in builds)))


def clear(home: Path) -> tuple[int, int]:
    """Remove every block file and build of `home` (what else is there is left alone):
    (entries removed, bytes freed). A run reading one meanwhile only decodes or builds again."""
    removed = freed = 0
    for _, size, path in _entries(home):
        if _remove(path):
            removed, freed = removed + 1, freed + size
    return removed, freed


def _remove(path: Path) -> bool:
    """Remove a block file or a build; False if another run removed it first or it cannot be
    removed."""
    try:
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()
    except OSError:
        return False
    return True


def _entries(home: Path) -> list[tuple[float, int, Path]]:
    """(last use, bytes, path) of every block file and every build directory of `home`."""
    return _block_files(home) + _builds(home / "nn")


def _block_files(home: Path) -> list[tuple[float, int, Path]]:
    out: list[tuple[float, int, Path]] = []
    for e in _scan(home):
        try:
            if e.name.startswith("blocks-") and e.is_file():
                st = e.stat()
                out.append((max(st.st_atime, st.st_mtime), st.st_size, Path(e.path)))
        except OSError:
            continue  # removed meanwhile
    return out


def _builds(nn: Path) -> list[tuple[float, int, Path]]:
    out: list[tuple[float, int, Path]] = []
    for d in _scan(nn):
        try:
            if d.name.startswith(".") or not d.is_dir():
                continue  # a build being made (a private temporary directory)
            stats = [f.stat() for f in _scan(Path(d.path)) if f.is_file()]
        except OSError:
            continue
        if stats:
            used = max(max(st.st_atime, st.st_mtime) for st in stats)
            out.append((used, sum(st.st_size for st in stats), Path(d.path)))
    return out


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    """The entries of `folder`; none when it does not exist (yet) or cannot be read."""
    try:
        return list(os.scandir(folder))
    except OSError:
        return []
