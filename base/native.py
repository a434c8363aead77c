"""The optional C extensions (setup.py builds each if it can): one rule for whether a run uses
them, kept in one place."""

from __future__ import annotations

import importlib
import os
from types import ModuleType


def native_wanted() -> bool:
    """Whether the native parts may be used: not when `MCUSIM_NATIVE=0` asks for the pure-Python
    path (which gives the same numbers; the suite runs both ways)."""
    return os.environ.get("MCUSIM_NATIVE", "1") != "0"


def optional_extension(name: str) -> ModuleType | None:
    """The extension module `name` (e.g. "mcusim.isa._block_timing"), or None when it was not
    built or the pure-Python path is asked for."""
    if not native_wanted():
        return None
    try:
        return importlib.import_module(name)
    except ImportError:
        return None
