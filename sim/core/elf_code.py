"""Where an ELF's Thumb code is: its executable sections without the data islands the ARM
ELF's mapping symbols mark (`$d` up to the next `$t`/`$a`: literal pools, jump tables), so that
a linear decode stays in step with the instructions (sim/core/code_map.py says what for).

Read by `Firmware.open` from the ELF it has open (one parse of the section headers and of the
symbol table's bytes for the whole start-up), and by `code_spans` from a path."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from elftools.common.exceptions import ELFError
from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile
from elftools.elf.sections import Section

# What reading the spans of an ELF that loads but is odd can raise: such an ELF gives no spans
# (the engine then adds hooks as blocks appear).
SPAN_ERRORS = (OSError, ELFError, ValueError, KeyError, AttributeError, TypeError,
               struct.error)


@dataclass(frozen=True)
class CodeSpan:
    """Thumb instructions from `address` on, as the ELF holds them (at their run address)."""

    address: int
    code: bytes


def spans_of(elf: ELFFile, all_sections: list[Section] | None = None) -> tuple[CodeSpan, ...]:
    """The code spans of an open ELF, in section order (`all_sections`: its sections, if they
    have been read already: pyelftools parses a section's header again at each look-up)."""
    every = list(elf.iter_sections()) if all_sections is None else all_sections
    sections = [(i, s) for i, s in enumerate(every)
                if s["sh_flags"] & SH_FLAGS.SHF_EXECINSTR and s["sh_type"] == "SHT_PROGBITS"
                and s["sh_size"]]
    marks: dict[int, list[tuple[int, bool]]] = {i: [] for i, _ in sections}
    symtab = {s.name: s for s in every}.get(".symtab")  # (the last so named, as pyelftools)
    if symtab is not None and hasattr(symtab, "iter_symbols"):
        for value, shndx, name in _symbols(elf, symtab, every):
            if shndx in marks and name[:2] in (b"$t", b"$a", b"$d"):
                marks[shndx].append((value & ~1, name[:2] != b"$d"))
    spans: list[CodeSpan] = []
    for i, sec in sections:
        base, data = sec["sh_addr"], sec.data()
        points = sorted(marks[i]) or [(base, True)]
        if points[0][0] > base:
            points.insert(0, (base, True))
        for k, (start, is_code) in enumerate(points):
            end = points[k + 1][0] if k + 1 < len(points) else base + len(data)
            if is_code and end > start:
                spans.append(CodeSpan(start, data[start - base:end - base]))
    return tuple(spans)


def _symbols(elf: ELFFile, symtab: Any,  # noqa: ANN401
             sections: list[Section]) -> Iterator[tuple[int, int, bytes]]:
    """(value, section index, name) of each symbol. Mapping symbols are most of an ELF's
    symbols: the raw table is read with struct (pyelftools parses one symbol at a time)."""
    if elf.elfclass != 32 or symtab["sh_entsize"] != 16:
        for sym in symtab.iter_symbols():
            yield sym["st_value"], sym["st_shndx"], sym.name.encode()
        return
    strings = sections[symtab["sh_link"]].data()
    layout = "<IIIBBH" if elf.little_endian else ">IIIBBH"
    for name, value, _size, _info, _other, shndx in struct.iter_unpack(layout, symtab.data()):
        yield value, shndx, strings[name:strings.find(b"\0", name)]
