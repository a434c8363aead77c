"""Many long-lived objects, and CPython's cyclic garbage collector.

Constructing a simulation decodes the ELF's code into one object per instruction (100 000 for
100 000 instructions of generated code), a block cache read back is as many small tuples, and
so on; they contain no garbage cycles and live as long as the simulation. Left to itself, the
collector would walk them again and again: made with it on, a collection every 700 of them;
made with it off, they stay in the youngest generation, and the first collections after walk
them all, then once more as middle-aged objects; and every older-generation collection that a
run's new blocks trigger walks them again (on a first run of such code that was about a sixth
of the run's time).

Two moves, each O(1) (the collector's lists are merged, not walked):
* `made_at_once()`: objects made by the thousand are made with collection off and then moved
  to the oldest generation (`gc.freeze()` moves every tracked object to the permanent
  generation, `gc.unfreeze()` on to the oldest one);
* `frozen_for_run()`: every object that exists when a run starts is kept out of the
  collector's view (`gc.freeze()`) until it ends (`gc.unfreeze()`, back to the oldest
  generation, as they would be by then anyway); `keep_young()` does the same during the run
  for what a new block made. Garbage cycles made before the run (or young when a block is
  kept) are collected after it instead of during it.

Neither moves anything when collection is off (a caller's choice) or when something else froze
objects (a program that froze for its own reasons: its objects must stay frozen). Inside a run
frozen here, `made_at_once` moves nothing either (unfreezing would end the run's freeze), and
it knows so from its own count: `gc.get_freeze_count()` walks the permanent generation, the
whole heap during a run.
"""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Iterator

_run_freezes = 0  # 1 while a frozen_for_run() block that froze is open
_freeze_lock = threading.Lock()


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
    (unless a run or a program froze objects: those must stay frozen)."""
    if may_promote():
        gc.freeze()
        gc.unfreeze()


def may_promote() -> bool:
    """Whether promote_young() would move objects: nothing is frozen, by a run or otherwise."""
    return not _run_freezes and gc.get_freeze_count() == 0


def keep_young() -> None:
    """Inside a run frozen by `frozen_for_run`: what was made since the last call goes out of
    the collector's view too (another `gc.freeze()`, O(1)), to come back with the rest when
    the run ends. For what a run makes to keep to its end (a translated block: its lists of
    hundreds of instructions would be walked by every young collection until promoted)."""
    if _run_freezes:
        gc.freeze()


@contextlib.contextmanager
def frozen_for_run() -> Iterator[None]:
    """The objects that exist now are left alone by the collector until the block ends. One
    run at a time freezes (runs in threads: the first; a nested run: the outer one)."""
    global _run_freezes
    with _freeze_lock:  # (runs in threads: the count and the freeze change together)
        mine = not _run_freezes and gc.isenabled() and gc.get_freeze_count() == 0
        if mine:
            gc.freeze()
            _run_freezes = 1
    if not mine:
        yield
        return
    try:
        yield
    finally:
        with _freeze_lock:
            _run_freezes = 0
            gc.unfreeze()
