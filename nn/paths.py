"""Where the model path finds the kernel library and keeps its build cache."""

from __future__ import annotations

import os
from pathlib import Path


def kernels_dir() -> Path:
    """kernels_c/ of this checkout (or $MCUSIM_KERNELS)."""
    env = os.environ.get("MCUSIM_KERNELS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "kernels_c"


def cache_root() -> Path:
    """$MCUSIM_CACHE, else ~/.cache/mcusim."""
    env = os.environ.get("MCUSIM_CACHE")
    return Path(env) if env else Path.home() / ".cache" / "mcusim"
