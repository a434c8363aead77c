"""Bit-band aliases of the Cortex-M3/M4 (cores with `has_bitband`): each word of a 32 MiB alias
window stands for one bit of the lowest 1 MiB of SRAM (alias 0x22000000) or of the peripheral
region (alias 0x42000000).

    bit_word_addr = alias_base + (byte_offset * 32) + (bit_number * 4)

Reads return 0 or 1; a write sets or clears the bit (bit 0 of the value) with a read-modify-write
of the backing memory, which the core does as one locked bus transaction (Cortex-M3/M4 TRM
"Bit-banding"; Cortex-M4 Devices Generic User Guide 2.2.5). An access of N bytes to the alias
is an access of N bytes to the backing memory ("a word access to a bit-band address results in
a word access to the underlying memory, and similarly for halfword and byte accesses"), at the
backing address rounded down to N, as QEMU's armv7m bitband device does; the bit is then
bit (word_index mod 8N) of those N bytes. Instruction fetches are not remapped (the alias is
mapped without execute permission).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

SRAM_REGION = 0x20000000
SRAM_ALIAS = 0x22000000
PERIPHERAL_REGION = 0x40000000
PERIPHERAL_ALIAS = 0x42000000
REGION_SIZE = 0x00100000  # 1 MiB of bit-band region ...
ALIAS_SIZE = REGION_SIZE * 32  # ... seen as 32 MiB of alias words
PAGE = 0x1000


class Bus(Protocol):
    """What holds the backing bytes: `read`/`write` of 1, 2 or 4 bytes, little-endian."""

    def read(self, addr: int, size: int) -> int: ...

    def write(self, addr: int, size: int, value: int) -> None: ...


@dataclass(frozen=True)
class BitBandAlias:
    """One alias window and the bus behind its bit-band region."""

    alias: int
    region: int
    backing: Bus

    def contains(self, addr: int) -> bool:
        return self.alias <= addr < self.alias + ALIAS_SIZE

    def target(self, addr: int, size: int) -> tuple[int, int]:
        """(backing address, bit number in the `size` bytes there) of an alias access."""
        offset = addr - self.alias
        backing = (self.region + (offset >> 5)) & -size
        return backing, (offset >> 2) & (8 * size - 1)

    def read(self, addr: int, size: int) -> int:
        backing, bit = self.target(addr, size)
        return (self.backing.read(backing, size) >> bit) & 1

    def write(self, addr: int, size: int, value: int) -> None:
        backing, bit = self.target(addr, size)
        old = self.backing.read(backing, size)
        new = old | (1 << bit) if value & 1 else old & ~(1 << bit)
        self.backing.write(backing, size, new)

    def alias_span(self, lo: int, hi: int) -> tuple[int, int] | None:
        """The alias addresses [start, end) of backing bytes [lo, hi), page-aligned; None when
        the bytes are outside the bit-band region."""
        lo, hi = max(lo, self.region), min(hi, self.region + REGION_SIZE)
        if lo >= hi:
            return None
        start = self.alias + (lo - self.region) * 32
        end = self.alias + (hi - self.region) * 32
        return start & -PAGE, (end + PAGE - 1) & -PAGE


class BitBandRouter:
    """A bus whose address range covers alias windows (a board's peripheral range
    0x40000000-0x5FFFFFFF holds 0x42000000-0x43FFFFFF): alias accesses become bit operations,
    the rest goes to the bus itself."""

    def __init__(self, inner: Bus, aliases: Sequence[BitBandAlias]):
        self.inner = inner
        self.aliases = tuple(aliases)

    def _alias(self, addr: int) -> BitBandAlias | None:
        return next((a for a in self.aliases if a.contains(addr)), None)

    def read(self, addr: int, size: int) -> int:
        alias = self._alias(addr)
        return alias.read(addr, size) if alias is not None else self.inner.read(addr, size)

    def write(self, addr: int, size: int, value: int) -> None:
        alias = self._alias(addr)
        if alias is not None:
            alias.write(addr, size, value)
        else:
            self.inner.write(addr, size, value)


Span = tuple[int, int]


def uncovered(span: Span, covered: Sequence[Span]) -> Iterator[Span]:
    """The parts of [start, end) outside every (start, end) of `covered`."""
    lo, hi = span
    for c_lo, c_hi in sorted(covered):
        if c_hi <= lo or c_lo >= hi:
            continue
        if c_lo > lo:
            yield lo, c_lo
        lo = max(lo, c_hi)
        if lo >= hi:
            return
    if lo < hi:
        yield lo, hi
