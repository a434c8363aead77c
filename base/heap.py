"""Many long-lived objects made at once (decoded instructions, a block cache read back), and
CPython's cyclic garbage collector.

Decoding the ELF's code makes one tuple per instruction (100 000 for 100 000 instructions of
generated code), with no garbage cycles among them, all kept for the run. With the collector
on, making them would run a collection every 700 objects, each walking what was made since;
with it off while they are made they stay in the youngest generation, and the first
collections after walk them all again, then once more as middle-aged objects. So they are made
with the collector off and then moved to the oldest generation without being walked:
`gc.freeze()` moves every tracked object to the permanent generation and `gc.unfreeze()` moves
them on to the oldest one, each an O(1) move of the collector's lists (resetting the youngest
generation's count). A program that froze objects itself is left alone (unfreezing would hand
its objects back too), and nothing is moved while collection is off (a caller's choice).
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def made_at_once() -> Iterator[None]:
    """No collection while the block runs; what it made (and any other young object) goes to
    the oldest generation when it ends."""
    collecting = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            promote_young()
            gc.enable()


def promote_young() -> None:
    """Every object the collector tracks into its oldest generation, without walking any
    (unless a program froze objects itself: those must stay frozen)."""
    if gc.get_freeze_count() == 0:
        gc.freeze()
        gc.unfreeze()
