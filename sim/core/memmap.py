"""The board's memory map inside Unicorn: regions (with aliases sharing one host buffer),
the firmware image loaded into them, and the checks that every loaded byte has a home."""

from __future__ import annotations

import ctypes

from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, Uc

from mcusim.base.errors import ElfError
from mcusim.memory.board_spec import BoardSpec
from mcusim.sim.core.firmware import Firmware


def map_regions(uc: Uc, board: BoardSpec) -> list[ctypes.Array[ctypes.c_char]]:
    """Map every region and alias; returns the host buffers, which must outlive `uc`."""
    buffers = []
    for region in board.regions:
        buf = ctypes.create_string_buffer(region.size)
        buffers.append(buf)
        perms = UC_PROT_ALL if region.writable else UC_PROT_READ | UC_PROT_EXEC
        for base, _end in region.windows():
            uc.mem_map_ptr(base, region.size, perms, ctypes.addressof(buf))
    return buffers


def _uncovered(board: BoardSpec, start: int, end: int) -> int | None:
    """The first address of [start, end) that no region window covers, or None."""
    addr = start
    while addr < end:
        for region in board.regions:
            hit = next(((lo, hi) for lo, hi in region.windows() if lo <= addr < hi), None)
            if hit is not None:
                addr = hit[1]
                break
        else:
            return addr
    return None


def load_firmware(uc: Uc, board: BoardSpec, fw: Firmware) -> None:
    for seg in fw.segments:
        spans = [(seg.load_address, seg.load_address + len(seg.data), "loaded at")]
        if seg.memsz:
            spans.append((seg.address, seg.address + seg.memsz, "occupying"))
        for start, end, what in spans:
            if start == end:
                continue
            bad = _uncovered(board, start, end)
            if bad is not None:
                raise ElfError(
                    f"{fw.path}: segment {seg.index} ({what} {start:#010x}-{end - 1:#010x}, "
                    f"{end - start} bytes) does not fit the memory of board {board.name}: "
                    f"address {bad:#010x} is in none of its regions ({board.describe_regions()}). "
                    "Was it linked for another board?"
                )
        if seg.data:
            uc.mem_write(seg.load_address, seg.data)


def read_vector_table(board: BoardSpec, fw: Firmware) -> tuple[int, int]:
    """(initial SP, reset handler address with the Thumb bit) from the image at the boot address.

    Reads the file image, following the board's aliases, so a table linked at 0x08000000 is
    found when the core boots from its alias at 0.
    """
    region = board.region_at(board.boot_address, 8)
    assert region is not None  # the board checks its boot address
    offset = board.boot_address - next(
        lo for lo, hi in region.windows() if lo <= board.boot_address < hi)
    table = None
    for lo, _hi in region.windows():
        table = fw.read(lo + offset, 8)
        if table is not None:
            break
    if table is None:
        raise ElfError(
            f"{fw.path} has no vector table: no loaded segment covers the boot address "
            f"{board.boot_address:#010x} of board {board.name} (region '{region.name}' "
            f"{region.base:#010x}). The first words of flash must hold the initial stack pointer "
            "and the reset handler; check the linker script's .isr_vector section"
        )
    sp = int.from_bytes(table[:4], "little")
    reset = int.from_bytes(table[4:], "little")
    if not reset & 1:
        raise ElfError(
            f"{fw.path}: the reset vector {reset:#010x} is an ARM-state address (bit 0 clear); "
            "Cortex-M cores execute Thumb code only, so the vector must have bit 0 set. "
            "Build with -mthumb -mcpu=cortex-mX and declare the handler as a function"
        )
    target = board.region_at(reset & ~1, 2)
    if target is None:
        raise ElfError(
            f"{fw.path}: the reset vector {reset:#010x} points outside the board's memory "
            f"({board.describe_regions()})"
        )
    ram = board.region_at(sp - 4, 4)
    if sp & 3 or ram is None or not ram.is_ram:
        raise ElfError(
            f"{fw.path}: the initial stack pointer {sp:#010x} in the vector table is not the "
            f"top of a RAM region of board {board.name} ({board.describe_regions()})"
        )
    return sp, reset
