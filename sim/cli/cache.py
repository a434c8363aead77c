"""`mcusim cache`: where mcusim's caches are, how much they hold, and clearing them (as `pip
cache info` / `pip cache purge` and `ccache -s` / `ccache -C` do)."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.console import Console


def register(sub: Any) -> None:
    cache = sub.add_parser(
        "cache", help="show or clear mcusim's cache directory (block files, model builds)",
        description="Show where mcusim keeps its caches (decoded, timed blocks per ELF; the "
        "`mcusim nn` builds) and how much they hold, or clear them. The directory is "
        "$MCUSIM_CACHE_DIR, else $XDG_CACHE_HOME/mcusim, else ~/.cache/mcusim, kept under "
        "$MCUSIM_CACHE_MAX (default 1 GiB).")
    cache.add_argument("action", nargs="?", choices=("info", "dir", "clear"), default="info",
                       help="info (default): the directory, its limit and what it holds; dir: "
                       "the directory alone; clear: remove every block file and build")
    cache.set_defaults(command_main=main)


def main(args: argparse.Namespace, err: Console) -> int:
    from mcusim.base.cache_home import cache_home, cache_home_problem, cache_limit, clear, usage
    from mcusim.base.errors import OutputError

    home = cache_home()
    if args.action == "dir":
        print(home)
        return 0
    problem = cache_home_problem(home)
    if problem is not None and args.action == "clear":
        raise OutputError(f"{problem}; nothing to clear")
    if args.action == "clear":
        removed, freed = clear(home)
        print(f"removed {removed} entries ({_size(freed)}) from {home}")
        return 0
    limit = cache_limit()
    (nblocks, blocks), (nbuilds, builds) = usage(home)
    state = ("" if home.is_dir() else " (not made yet)" if problem is None
             else " (cannot be made: a file is in its place)")
    rows = [("directory", str(home) + state),
            ("limit", "none" if limit is None else _size(limit)),
            ("block files", f"{nblocks} ({_size(blocks)})"),
            ("model builds", f"{nbuilds} ({_size(builds)})"),
            ("total", _size(blocks + builds))]
    sys.stdout.write("".join(f"{k:<14}{v}\n" for k, v in rows))
    return 0


def _size(n: int) -> str:
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            return f"{n / (1 << shift):.1f} {unit}"
    return f"{n} B"
