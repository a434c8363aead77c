"""Flash read path timing: wait states, the line buffer, prefetch and the flash caches.

The model follows memory/FLASH_TIMING.md section 3, reduced to what can be charged per block:

* Sequential code within a block streams through the line buffer; with prefetch the next
  line is read while the current one executes, so a line stalls only by what its predecessor
  did not cover: max(0, WS + 1 - cycles spent in the previous line). Without prefetch every
  new line costs WS. These stalls are static and computed once per translated block.
* Entering a block by a taken branch looks its first line up: the current line buffer or the
  instruction cache cost nothing; a miss costs WS and, on STM32's ART ("branch cache"), is the
  line the cache keeps. Caches that keep every fetched line (Cortex-M7 L1) look up every line.
* Data reads from flash (literal pools, constant tables, weights) go through the data cache
  and the current data line; a miss costs WS.

Caches are fully associative with LRU replacement. The accelerator state is the one vendor
start-up code leaves (STM32Cube HAL_Init, Zephyr): see the SoC files and FLASH_TIMING.md §8.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import OrderedDict
from itertools import accumulate
from typing import TYPE_CHECKING

from mcusim.isa.native_timing import NATIVE
from mcusim.memory.board_spec import RegionSpec

if TYPE_CHECKING:  # numpy: only the batched path's look-ups; a plain run does not load it
    import numpy as np


class LineCache:
    """A fully associative LRU cache of line numbers."""

    __slots__ = ("capacity", "_lines")

    def __init__(self, capacity: int):
        self.capacity = capacity
        self._lines: OrderedDict[int, None] = OrderedDict()

    def hit(self, line: int) -> bool:
        if line in self._lines:
            self._lines.move_to_end(line)
            return True
        return False

    def fill(self, line: int) -> None:
        if not self.capacity:
            return
        self._lines[line] = None
        if len(self._lines) > self.capacity:
            self._lines.popitem(last=False)

    def holds(self, lines: list[int]) -> bool:
        return all(line in self._lines for line in lines)

    def use(self, lines: list[int]) -> None:
        """Hits on cached `lines`, in this order."""
        for line in lines:
            self._lines.move_to_end(line)

    def look_up_all(self, lines: np.ndarray) -> np.ndarray:
        """Look up `lines` in order, filling each miss, as `hit` then `fill` would one at a
        time; returns which were misses. When nothing would be evicted (the usual case: a
        loop's lines fit), a line misses only at its first look-up and the LRU order
        afterwards is by last use, so the whole sequence is resolved at once."""
        import numpy as np

        miss = np.zeros(len(lines), dtype=bool)
        if not len(lines):
            return miss
        if not self.capacity:
            miss[:] = True
            return miss
        lo = int(lines.min())
        span = int(lines.max()) - lo + 1
        distinct = (np.flatnonzero(np.bincount(lines - lo, minlength=span)) + lo
                    if span <= 1 << 20 else np.unique(lines))
        new = [line for line in distinct.tolist() if line not in self._lines]
        if len(self._lines) + len(new) > self.capacity:
            for k, line in enumerate(lines.tolist()):
                if not self.hit(line):
                    self.fill(line)
                    miss[k] = True
            return miss
        for line in new:
            miss[int(np.argmax(lines == line))] = True
        used = _by_last_use(lines, distinct)
        used_set = set(used)
        kept = [line for line in self._lines if line not in used_set]
        self._lines = OrderedDict.fromkeys(kept + used)
        return miss


def _by_last_use(lines: np.ndarray, distinct: np.ndarray) -> list[int]:
    """The `distinct` values of `lines`, least recently used first. In a loop nearly every
    line shows up again near the end, so the tail is searched first."""
    import numpy as np

    values, age = np.unique(lines[-256:][::-1], return_index=True)
    if len(values) < len(distinct):  # the few used only earlier: look each one up
        older = np.setdiff1d(distinct, values, assume_unique=True)
        backwards = lines[::-1]
        values = np.concatenate([values, older])
        age = np.concatenate([age, [int(np.argmax(backwards == v)) for v in older.tolist()]])
    return values[np.argsort(-age)].tolist()


class FlashInterface:
    """One flash region's read path at a given clock."""

    def __init__(self, region: RegionSpec, clock_hz: int):
        self.region = region
        self.ws = region.wait_states(clock_hz)
        self.line_bytes = region.line_bytes or 16
        self.prefetch = region.prefetch
        self.fills_all = region.icache_fills == "all"
        self.icache = LineCache(region.icache_lines)
        self.dcache = LineCache(region.dcache_lines)
        self.current = -1  # line in the instruction line buffer
        self.current_data = -1
        self.fetch_stall_cycles = 0
        self.data_stall_cycles = 0
        self.native_index = -1  # its index in the native hot path's state
        self._last_window = (0, 0)  # the window line_of found last (none yet)

    @property
    def active(self) -> bool:
        return self.ws > 0

    def line_of(self, address: int) -> int:
        """Line number of an address in any window of the region (aliases share lines)."""
        lo, _ = self._window(address)
        return (address - lo + self.region.base) // self.line_bytes

    def _window(self, address: int) -> tuple[int, int]:
        """The window of the region that holds `address`. Blocks and data reads keep to one
        window (code runs from the alias it was entered at), so the last one found is tried
        first."""
        lo, hi = self._last_window
        if lo <= address < hi:
            return lo, hi
        for lo, hi in self.region.windows():
            if lo <= address < hi:
                self._last_window = (lo, hi)
                return lo, hi
        raise ValueError(f"{address:#x} is not in flash region {self.region.name}")

    def line_numbers(self, addresses: np.ndarray) -> np.ndarray:
        """`line_of` for many addresses at once."""
        import numpy as np

        lines = np.zeros(len(addresses), dtype=np.int64)
        for lo, hi in self.region.windows():
            inside = (addresses >= lo) & (addresses < hi)
            lines[inside] = (addresses[inside] - lo + self.region.base) // self.line_bytes
        return lines

    def lines(self, address: int, size: int) -> tuple[int, ...]:
        first = self.line_of(address)
        last = self.line_of(address + max(size, 1) - 1)
        return tuple(range(first, last + 1))

    def sequential_stalls(self, addresses: list[int], cycles: list[int]) -> list[int]:
        """Static stalls of a block's instructions (added to each instruction's cycles) for
        the lines after its first, read in sequence through the line buffer."""
        stalls = [0] * len(addresses)
        if self.fills_all or not addresses:
            return stalls  # every line is looked up in the cache per execution instead
        # A block is contiguous code in one window, so its lines follow from the addresses by
        # arithmetic: only the instructions that start a new line are visited (by bisection),
        # and the cycles spent in a line come from running sums, not a loop in Python.
        lo, hi = self._window(addresses[0])
        if addresses[-1] >= hi:  # (a block across the end of a window: not seen in practice)
            return self._stalls_per_instruction(addresses, cycles)
        offset = self.region.base - lo  # address + offset: the address in the region's base window
        line_bytes, ws = self.line_bytes, self.ws
        if NATIVE is not None:  # the same steps in C (isa/native/flash_stalls.c)
            native = NATIVE.sequential_stalls(addresses, cycles, offset, line_bytes, ws,
                                              self.prefetch)
            if native is not None:
                return native
        n = len(addresses)
        # The first byte of the line after the first instruction's, as an address of the window.
        after = (addresses[0] + offset) // line_bytes * line_bytes + line_bytes - offset
        if not self.prefetch:  # every new line costs the wait states
            k = 0
            while True:
                k = bisect_left(addresses, after, k + 1)
                if k >= n:
                    return stalls
                stalls[k] = ws
                after = (addresses[k] + offset) // line_bytes * line_bytes + line_bytes - offset
        covered = ws + 1  # a line fetched while the previous one ran this long costs nothing
        before = list(accumulate(cycles, initial=0))  # cycles before each instruction
        spent_before = 0  # cycles before the first instruction of the current line
        k = 0
        while True:
            # The first instruction at or after the next line's first byte starts a new line.
            k = bisect_left(addresses, after, k + 1)
            if k >= n:
                return stalls
            now = before[k]
            stall = covered - now + spent_before
            if stall > 0:
                stalls[k] = stall
            spent_before = now
            after = (addresses[k] + offset) // line_bytes * line_bytes + line_bytes - offset

    def _stalls_per_instruction(self, addresses: list[int], cycles: list[int]) -> list[int]:
        """sequential_stalls one instruction at a time, each line looked up on its own."""
        stalls = [0] * len(addresses)
        prev_line = self.line_of(addresses[0])
        spent = 0
        for i, address in enumerate(addresses):
            line = self.line_of(address)
            if line != prev_line:
                stalls[i] = max(self.ws + 1 - spent, 0) if self.prefetch else self.ws
                spent = 0
                prev_line = line
            spent += cycles[i]
        return stalls

    def enter(self, lines: tuple[int, ...], taken: bool) -> int:
        """Stall cycles to start a block whose code spans `lines`."""
        stall = 0
        if self.fills_all:
            for line in lines:
                if line != self.current and not self.icache.hit(line):
                    stall += self.ws
                    self.icache.fill(line)
                self.current = line
        else:
            first = lines[0]
            if (first != self.current and (taken or not self.prefetch)
                    and not self.icache.hit(first)):
                stall = self.ws
                self.icache.fill(first)
            self.current = lines[-1]
        self.fetch_stall_cycles += stall
        return stall

    def read(self, address: int) -> int:
        """Stall cycles of a data read from flash."""
        line = self.line_of(address)
        if line == self.current_data or self.dcache.hit(line):
            self.current_data = line
            return 0
        self.current_data = line
        self.dcache.fill(line)
        self.data_stall_cycles += self.ws
        return self.ws
