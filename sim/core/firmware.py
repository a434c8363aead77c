"""Firmware ELF files: validated loadable segments, the symbol table and the vector table.

Parsing is lazy (pyelftools reads from the open stream); everything a run needs is pulled out
once by `Firmware.open`, which refuses files that cannot run on a Cortex-M with a message that
says why.
"""

from __future__ import annotations

import bisect
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError as PyElfError
from elftools.elf.constants import P_FLAGS, SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section
from elftools.elf.sections import Symbol as ElfSymbol

from mcusim.base.errors import ElfError, MissingInputError
from mcusim.sim.core.elf_code import SPAN_ERRORS, CodeSpan, spans_of
from mcusim.sim.core.elf_symbols import iter_symbols

ELF_MAGIC = b"\x7fELF"
TAG_CPU_ARCH_PROFILE = "TAG_CPU_ARCH_PROFILE"


@dataclass(frozen=True)
class LoadSegment:
    """A PT_LOAD segment: `data` goes to `load_address` (its LMA); it occupies `memsz` bytes at
    `address` (its VMA) while the program runs, which startup code fills in."""

    index: int
    load_address: int
    address: int
    data: bytes
    memsz: int
    flags: int

    @property
    def executable(self) -> bool:
        return bool(self.flags & P_FLAGS.PF_X)


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int  # for functions, without the Thumb bit
    size: int
    kind: str  # "func" or "object"


class SymbolTable:
    """Functions and data objects by name, and the function containing an address."""

    def __init__(self, symbols: list[Symbol], all_addresses: dict[str, int] | None = None):
        self._all = all_addresses or {}
        self._by_name: dict[str, Symbol] = {}
        for s in symbols:
            # A global wins over a local of the same name; otherwise keep the first.
            self._by_name.setdefault(s.name, s)
        funcs = sorted((s for s in symbols if s.kind == "func"), key=lambda s: (s.address, -s.size))
        self.functions: list[Symbol] = []
        for s in funcs:
            if not self.functions or self.functions[-1].address != s.address:
                self.functions.append(s)
        self._starts = [f.address for f in self.functions]

    def addresses(self) -> dict[str, int]:
        """Every symbol's address by name (linker-script symbols included)."""
        return dict(self._all)

    def __contains__(self, name: str) -> bool:
        return name in self._by_name

    def get(self, name: str) -> Symbol | None:
        return self._by_name.get(name)

    def function_at(self, addr: int) -> Symbol | None:
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0:
            return None
        f = self.functions[i]
        if addr < f.address + max(f.size, 1):
            return f
        return None

    def unknown_name(self, addr: int) -> str:
        """A name for code outside every symbol: the address range between its neighbours;
        with no symbol before or after it (a stripped ELF), the block's own address, as perf
        shows code without symbols (a range from 0 or to the block itself says nothing)."""
        i = bisect.bisect_right(self._starts, addr) - 1
        if i < 0 or i + 1 >= len(self._starts):
            return f"{addr:#010x}"
        lo = min(self.functions[i].address + max(self.functions[i].size, 1), addr)
        return f"{lo:#010x}-{self._starts[i + 1] - 1:#010x}"

    def describe(self, addr: int) -> str:
        """`func+0x1a` for an address inside a known function, else the bare address."""
        f = self.function_at(addr & ~1)
        if f is None:
            return f"{addr:#010x}"
        off = (addr & ~1) - f.address
        return f"{f.name}+{off:#x}" if off else f.name


@dataclass(frozen=True)
class Firmware:
    path: Path
    entry: int
    segments: tuple[LoadSegment, ...]
    symbols: SymbolTable
    arch_profile: str | None
    code: tuple[CodeSpan, ...] = ()  # where its Thumb code is (sim/core/elf_code.py)

    @classmethod
    def open(cls, path: str | Path) -> Firmware:
        path = Path(path)
        try:
            f = open(path, "rb")  # noqa: SIM115 - closed by the with below
        except FileNotFoundError:
            raise MissingInputError(f"firmware file {path} does not exist") from None
        except IsADirectoryError:
            raise MissingInputError(f"{path} is a directory, not a firmware ELF file") from None
        except OSError as e:
            raise MissingInputError(f"firmware file {path} cannot be read: {e.strerror}") from None
        with f:
            magic = f.read(4)
            if magic != ELF_MAGIC:
                why = f"it starts with {magic!r}, not b'\\x7fELF'" if magic else "it is empty"
                raise ElfError(
                    f"{path} is not an ELF file ({why}). "
                    "mcusim runs ELF executables as linked by arm-none-eabi-gcc; a raw .bin or "
                    ".hex image has no symbols or load addresses to run from"
                )
            f.seek(0)
            try:
                return cls._parse(path, ELFFile(f))
            except (PyElfError, struct.error, ValueError, EOFError) as e:
                raise ElfError(
                    f"{path} is a truncated or corrupt ELF file and cannot be loaded ({e})"
                ) from None

    @classmethod
    def _parse(cls, path: Path, elf: ELFFile) -> Firmware:
        if elf.elfclass != 32 or not elf.little_endian or elf["e_machine"] != "EM_ARM":
            raise ElfError(
                f"{path} is an ELF for {elf.get_machine_arch()} "
                f"({elf.elfclass}-bit, {'little' if elf.little_endian else 'big'}-endian), "
                "not for 32-bit little-endian ARM; build it with arm-none-eabi-gcc -mthumb "
                "-mcpu=cortex-mX"
            )
        if elf["e_type"] != "ET_EXEC":
            raise ElfError(
                f"{path} is an ELF of type {elf['e_type']}, not a linked executable (ET_EXEC); "
                "link it with a linker script before running it"
            )
        # The section headers, read once (pyelftools parses one again at each look-up).
        sections = list(elf.iter_sections())
        by_name = {sec.name: sec for sec in sections}  # (the last of a name, as pyelftools)
        profile = _arch_profile(by_name)
        if profile in ("A", "R"):
            raise ElfError(
                f"{path} was built for an ARM {profile}-profile core (ARM state); Cortex-M "
                "cores execute Thumb code only. Build it with -mthumb -mcpu=cortex-mX"
            )
        segments = tuple(_load_segments(elf))
        if not segments:
            raise ElfError(f"{path} has no loadable (PT_LOAD) segment with data: nothing to run")
        entry = elf["e_entry"]
        named = _named_symbols(by_name)  # (the table read once for both)
        try:
            code = spans_of(elf, sections)
        except SPAN_ERRORS:
            code = ()  # (an odd ELF still runs: its hooks are added as blocks appear)
        return cls(path=path, entry=entry, segments=segments,
                   symbols=SymbolTable(list(_symbols(sections, named)), _all_addresses(named)),
                   arch_profile=profile, code=code)

    def read(self, address: int, size: int) -> bytes | None:
        """Bytes of the file image at a load address, or None if not all of them are loaded."""
        for s in self.segments:
            if s.load_address <= address and address + size <= s.load_address + len(s.data):
                off = address - s.load_address
                return s.data[off:off + size]
        return None


def _arch_profile(by_name: dict[str, Section]) -> str | None:
    sec = by_name.get(".ARM.attributes")
    if sec is None or not hasattr(sec, "iter_subsections"):
        return None
    for sub in sec.iter_subsections():
        for subsub in sub.iter_subsubsections():
            for attr in subsub.iter_attributes():
                if attr.tag == TAG_CPU_ARCH_PROFILE:
                    value = attr.value
                    if isinstance(value, int):
                        value = chr(value) if value else None
                    return value or None
    return None


def _load_segments(elf: ELFFile) -> Iterator[LoadSegment]:
    for i, seg in enumerate(elf.iter_segments(type="PT_LOAD")):
        if seg["p_memsz"] == 0:
            continue
        data = seg.data()
        if len(data) != seg["p_filesz"]:
            raise ValueError(f"segment {i} is cut short: {len(data)} of {seg['p_filesz']} bytes")
        yield LoadSegment(index=i, load_address=seg["p_paddr"], address=seg["p_vaddr"],
                          data=data, memsz=seg["p_memsz"], flags=seg["p_flags"])


def _named_symbols(by_name: dict[str, Section]) -> list[ElfSymbol]:
    """The ELF's symbols with a name, but for mapping symbols (pyelftools' Symbol objects)."""
    symtab = by_name.get(".symtab")
    if symtab is None or not hasattr(symtab, "iter_symbols"):
        return []
    return list(iter_symbols(symtab, named=True))  # symtab.iter_symbols(), decoded fast


def _all_addresses(named: list[ElfSymbol]) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in named:
        if s["st_shndx"] != "SHN_UNDEF":
            out.setdefault(s.name, s["st_value"])
    return out


def _symbols(sections: list[Section], named: list[ElfSymbol]) -> Iterator[Symbol]:
    if not named:
        return
    code_sections = {i: (sec["sh_addr"], sec["sh_addr"] + sec["sh_size"])
                     for i, sec in enumerate(sections)
                     if sec["sh_flags"] & SH_FLAGS.SHF_EXECINSTR}
    symbols = []
    section_end: dict[str, int] = {}
    for s in named:
        sym_type = s["st_info"]["type"]
        shndx = s["st_shndx"]
        if not isinstance(shndx, int):
            continue
        if sym_type == "STT_FUNC":
            kind = "func"
        elif sym_type == "STT_OBJECT":
            kind = "object"
        elif (sym_type == "STT_NOTYPE" and shndx in code_sections
              and s["st_info"]["bind"] == "STB_GLOBAL"):
            kind = "label"  # assembly entry points such as crt0's _start carry no type
        else:
            continue
        addr = s["st_value"] & ~1 if kind != "object" else s["st_value"]
        if shndx in code_sections:
            section_end[s.name] = code_sections[shndx][1]
        symbols.append(Symbol(name=s.name, address=addr, size=s["st_size"], kind=kind))
    # Assembly routines often carry no size: such a routine runs up to the next code symbol
    # or the end of its section.
    starts = sorted({s.address for s in symbols if s.kind != "object"})
    for s in symbols:
        if s.kind != "object" and s.size == 0:
            i = bisect.bisect_right(starts, s.address)
            end = section_end.get(s.name, s.address + 2)
            if i < len(starts):
                end = min(end, starts[i])
            s = Symbol(s.name, s.address, end - s.address, "func")
        yield s
