"""Static memory footprint of a firmware ELF per board region, like arm-none-eabi-size but
per region: what occupies flash (code, constants, initial values of .data) and RAM (.data,
.bss, and the heap and stack reservations of the linker script)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from mcusim.memory.board_spec import BoardSpec


@dataclass
class RegionFootprint:
    region: str
    kind: str
    capacity: int
    used: int
    sections: dict[str, int] = field(default_factory=dict)

    @property
    def percent(self) -> float:
        return 100 * self.used / self.capacity if self.capacity else 0.0


@dataclass
class Footprint:
    regions: list[RegionFootprint]
    flash_bytes: int  # code + constants + .data initial values
    static_ram_bytes: int  # .data + .bss (+ other allocated RAM sections), no heap or stack
    stack_reserved_bytes: int
    heap_reserved_bytes: int


# Linker-script symbols that bound the stack and heap reservations (kernels_c/ld/common.ld,
# CMSIS startup files).
STACK_SYMBOLS = (("__StackLimit", "__StackTop"),)
HEAP_SYMBOLS = (("__HeapBase", "__HeapLimit"), ("end", "__HeapLimit"))


def footprint(path: Path, board: BoardSpec, symbols: dict[str, int]) -> Footprint:
    per_region = {r.name: RegionFootprint(r.name, r.kind, r.size, 0) for r in board.regions}
    flash = static_ram = 0
    with open(path, "rb") as f:
        elf = ELFFile(f)
        for sec in elf.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            size, vma = sec["sh_size"], sec["sh_addr"]
            region = board.region_at(vma)
            if region is None:
                continue
            rf = per_region[region.name]
            rf.sections[sec.name] = rf.sections.get(sec.name, 0) + size
            rf.used += size
            if region.kind == "flash":
                flash += size
            else:
                static_ram += size
                if sec["sh_type"] != "SHT_NOBITS":
                    load = _load_address(elf, vma)
                    lregion = board.region_at(load) if load is not None else None
                    if lregion is not None and lregion.kind == "flash" and load != vma:
                        # .data's initial values live in flash too.
                        lf = per_region[lregion.name]
                        lf.sections[sec.name + " (init)"] = size
                        lf.used += size
                        flash += size
    stack = _bounds(symbols, STACK_SYMBOLS)
    heap = _bounds(symbols, HEAP_SYMBOLS)
    for name, bounds in (("stack (reserved)", stack), ("heap (reserved)", heap)):
        if bounds is None:
            continue
        lo, hi = bounds
        for region in board.regions:  # a reservation may straddle adjacent regions
            overlap = min(hi, region.end) - max(lo, region.base)
            if overlap > 0:
                per_region[region.name].sections[name] = overlap
                per_region[region.name].used += overlap
    return Footprint([r for r in per_region.values() if r.used], flash, static_ram,
                     stack[1] - stack[0] if stack else 0, heap[1] - heap[0] if heap else 0)


def _bounds(symbols: dict[str, int], pairs: tuple[tuple[str, str], ...]) -> tuple[int, int] | None:
    for lo, hi in pairs:
        if lo in symbols and hi in symbols and symbols[hi] > symbols[lo]:
            return symbols[lo], symbols[hi]
    return None


def _load_address(elf: ELFFile, vma: int) -> int | None:
    for seg in elf.iter_segments(type="PT_LOAD"):
        if seg["p_vaddr"] <= vma < seg["p_vaddr"] + seg["p_memsz"]:
            return seg["p_paddr"] + (vma - seg["p_vaddr"])
    return None
