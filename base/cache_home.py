"""The one directory mcusim keeps its caches in (the model path's builds under nn/, the block
cache's files beside them), decided by one rule, as the XDG base-directory convention has it:

    $MCUSIM_CACHE_DIR, else $MCUSIM_CACHE (the name the model builds' cache had before
    both went here), else $XDG_CACHE_HOME/mcusim, else ~/.cache/mcusim

Before this, the model builds' cache read only $MCUSIM_CACHE and ignored $XDG_CACHE_HOME,
while the block cache read $MCUSIM_CACHE_DIR: two variables for one directory.
"""

from __future__ import annotations

import os
from pathlib import Path


def cache_home() -> Path:
    """Where mcusim's caches live (created by whoever writes there first)."""
    for name in ("MCUSIM_CACHE_DIR", "MCUSIM_CACHE"):
        explicit = os.environ.get(name)
        if explicit:
            return Path(explicit)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "mcusim"
