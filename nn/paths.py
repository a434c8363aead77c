"""Where the model path finds the kernel library and keeps its build cache."""

from __future__ import annotations

import os
from pathlib import Path

from mcusim.base.cache_home import cache_home


def kernels_dir() -> Path:
    """kernels_c/ of this checkout (or $MCUSIM_KERNELS)."""
    env = os.environ.get("MCUSIM_KERNELS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "kernels_c"


def builds_dir() -> Path:
    """Where the builds go: nn/ of mcusim's cache directory (base/cache_home.py)."""
    return cache_home() / "nn"
