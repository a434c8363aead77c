"""The cyclic garbage collector during a run: it looks only at objects made during the run.

Constructing a simulation decodes the ELF's code into one object per instruction (100 000 for
100 000 instructions of generated code). They live as long as the simulation, and contain no
garbage cycles, but CPython's collector walks them again in each older-generation collection
that a run's new blocks trigger: on a first run of such code that was about a sixth of the
run's time. `gc.freeze()` moves every object that exists when the run starts out of the
collector's view (it is an O(1) move of the collector's lists), and `gc.unfreeze()` hands them
back to the oldest generation when the run ends, as they would be by then anyway.

Garbage cycles made before the run are collected after it instead of during it. Nothing is
frozen when something else already froze objects (a nested run, or a program that froze for its
own reasons: its frozen objects must stay frozen) or when collection is off.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def frozen() -> Iterator[None]:
    """The objects that exist now are left alone by the collector until the block ends."""
    if not gc.isenabled() or gc.get_freeze_count():
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
