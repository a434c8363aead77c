"""The flash read path of a batch (sim/accounting/batched.py): which code fetches and data
reads of the blocks in it missed the flash's line buffers and caches, and the stall cycles
they add to the flash's counters, computed for the whole batch with numpy (memory/flash.py's
per-access rules, in the order the blocks ran)."""

from __future__ import annotations

import numpy as np

from mcusim.memory.flash import FlashInterface
from mcusim.sim.accounting.batch_table import BlockTable, after


def fetch_stalls(table: BlockTable, flash: FlashInterface, rows: np.ndarray, moved: np.ndarray,
                 positions: np.ndarray | None) -> np.ndarray:
    """Positions whose code fetch missed the line buffer and the instruction cache (a
    position appears once per missed line)."""
    if positions is not None:
        if not len(positions):
            return positions
        rows, moved = rows[positions], moved[positions]
    first, last = table["first_line"][rows], table["last_line"][rows]
    if flash.fills_all:
        # Every line of every block is looked up unless it is the line just fetched.
        spans = last - first + 1
        starts = np.cumsum(spans) - spans
        lines = np.repeat(first - starts, spans) + np.arange(int(spans.sum()))
        where = np.repeat(np.arange(len(rows)), spans)
        looked = lines != after(flash.current, lines)
        flash.current = int(lines[-1])
    else:
        # Only a block's first line, when it is not in the line buffer and was not
        # prefetched (reached by a jump, or the region does not prefetch).
        looked = first != after(flash.current, last)
        if flash.prefetch:
            looked &= moved
        lines, where = first, None
        flash.current = int(last[-1])
    looked = np.flatnonzero(looked)
    missed = looked[flash.icache.look_up_all(lines[looked])]
    if where is not None:
        missed = where[missed]
    flash.fetch_stall_cycles += flash.ws * len(missed)
    return positions[missed] if positions is not None else missed

def data_stalls(flash: FlashInterface, reads: np.ndarray) -> np.ndarray:
    """Positions of data reads from flash that missed the data line and the data cache."""
    positions, lines = reads >> 32, flash.line_numbers(reads & 0xFFFFFFFF)
    looked = np.flatnonzero(lines != after(flash.current_data, lines))
    flash.current_data = int(lines[-1])
    missed = positions[looked[flash.dcache.look_up_all(lines[looked])]]
    flash.data_stall_cycles += flash.ws * len(missed)
    return missed
