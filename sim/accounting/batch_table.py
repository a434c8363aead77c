"""The batched path's tables: the translated blocks' constants as numpy columns, and the
cycles a batch charges beyond the blocks' static counts."""

from __future__ import annotations

import numpy as np

from mcusim.sim.core.blocks import Block

_COLUMNS = ("address", "fallthrough", "count", "cycles", "taken_extra", "entry_extra",
            "branch_end", "call_end", "flash", "first_line", "last_line", "function")


def after(first: int, values: np.ndarray, whole: bool = False) -> np.ndarray:
    """`first` followed by `values` (without its last element unless `whole`): for each
    position, the value before it."""
    out = np.empty(len(values) + whole, dtype=np.int64)
    out[0] = first
    out[1:] = values if whole else values[:-1]
    return out


class BlockTable:
    """The translated blocks' constants as numpy columns, one row per block."""

    def __init__(self) -> None:
        self.size = 0
        self.blocks: list[Block] = []
        self.in_flash: dict[int, int] = {}  # flash region (index) -> its blocks
        self._columns = {name: np.zeros(64, dtype=np.int64) for name in _COLUMNS}

    def add(self, block: Block, flash: int, function: int) -> int:
        row = self.size
        if row == len(self._columns["address"]):
            for name, column in self._columns.items():
                self._columns[name] = np.concatenate([column, np.zeros_like(column)])
        lines = block.flash_lines or (0,)
        for name, value in (("address", block.address), ("fallthrough", block.fallthrough),
                            ("count", block.count), ("cycles", block.cycles),
                            ("taken_extra", block.taken_extra),
                            ("entry_extra", block.entry_extra),
                            ("branch_end", block.branch_end), ("call_end", block.call_end),
                            ("flash", flash), ("first_line", lines[0]),
                            ("last_line", lines[-1]), ("function", function)):
            self._columns[name][row] = value
        if flash >= 0:
            self.in_flash[flash] = self.in_flash.get(flash, 0) + 1
        self.blocks.append(block)
        block.table_index = row
        self.size = row + 1
        return row

    def __getitem__(self, name: str) -> np.ndarray:
        return self._columns[name][:self.size]


class Charges:
    """Cycles beyond the blocks' static counts found in a batch: at which positions, how
    many, and which block each is booked to."""

    def __init__(self) -> None:
        self.parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def add(self, positions: np.ndarray, cycles: np.ndarray | int, owners: np.ndarray) -> None:
        if len(positions):
            self.parts.append((positions, np.broadcast_to(cycles, positions.shape), owners))

    def per_block(self, size: int) -> np.ndarray:
        out = np.zeros(size, dtype=np.int64)
        for _, cycles, owners in self.parts:
            out += np.bincount(owners, weights=cycles, minlength=size).astype(np.int64)
        return out

    def per_position(self, base: np.ndarray) -> np.ndarray:
        out = base.copy()
        for positions, cycles, _ in self.parts:
            np.add.at(out, positions, cycles)
        return out
