"""Where the model path finds the kernel library and keeps its build cache."""

from __future__ import annotations

import os
from pathlib import Path

from mcusim.base.cache_home import cache_home, cache_home_problem
from mcusim.base.errors import OutputError


def kernels_dir() -> Path:
    """kernels_c/ of this checkout (or $MCUSIM_KERNELS)."""
    env = os.environ.get("MCUSIM_KERNELS")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "kernels_c"


def builds_dir() -> Path:
    """Where the builds go: nn/ of mcusim's cache directory (base/cache_home.py)."""
    home = cache_home()
    problem = cache_home_problem(home)
    if problem is not None:
        raise OutputError(f"{problem}; the model builds are kept there: point "
                          "$MCUSIM_CACHE_DIR at a directory")
    return home / "nn"
