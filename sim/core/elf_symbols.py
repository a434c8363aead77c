"""An ELF's symbol table, read fast: pyelftools' own `Symbol` objects, decoded with struct.

pyelftools parses every symbol through its construct library, about 0.1 ms a symbol: hello.elf's
~600 symbols took 20-45 ms, and a run reads the table three times (the firmware's symbols and
addresses, the code map's mapping symbols), a third of `mcusim run hello.elf`'s start-up.
A Cortex-M ELF is 32-bit little-endian, whose Elf32_Sym entries one `struct.iter_unpack`
decodes; the fields come out as pyelftools gives them (enum names for st_info, st_other's
visibility and the special section indices; names from the string table as UTF-8 with
replacement), so callers index them as before. Any other ELF takes pyelftools' own path.
tests/test_startup.py compares both readers on the bundled ELFs.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Any

from elftools.elf.enums import (
    ENUM_ST_INFO_BIND,
    ENUM_ST_INFO_TYPE,
    ENUM_ST_SHNDX,
    ENUM_ST_VISIBILITY,
)
from elftools.elf.sections import Symbol


def _names(enum: Any) -> dict[int, str]:
    return {value: name for name, value in enum.items() if name != "_default_"}


_BIND, _TYPE = _names(ENUM_ST_INFO_BIND), _names(ENUM_ST_INFO_TYPE)
_VISIBILITY, _SHNDX = _names(ENUM_ST_VISIBILITY), _names(ENUM_ST_SHNDX)
_ELF32_SYM = struct.Struct("<IIIBBH")  # st_name, st_value, st_size, st_info, st_other, st_shndx


def iter_symbols(symtab: Any, named: bool = False) -> Iterator[Symbol]:
    """`symtab.iter_symbols()` of a pyelftools SymbolTableSection, decoded in one go; with
    `named`, only the symbols with a name that is no mapping symbol's (`$t`, `$d`, ...: most
    of an ELF's symbols, which the firmware's symbol table leaves out)."""
    elf = symtab.elffile
    if elf.elfclass != 32 or not elf.little_endian or symtab["sh_entsize"] != _ELF32_SYM.size:
        for sym in symtab.iter_symbols():
            if not named or (sym.name and not sym.name.startswith("$")):
                yield sym
        return
    data = symtab.data()
    strings = symtab.stringtable.data()
    usable = len(data) - len(data) % _ELF32_SYM.size
    for name_at, value, size, info, other, shndx in _ELF32_SYM.iter_unpack(data[:usable]):
        if named and strings[name_at:name_at + 1] in (b"\0", b"$", b""):
            continue
        end = strings.find(b"\0", name_at)
        raw = strings[name_at:end if end >= 0 else len(strings)]
        entry = {"st_name": name_at, "st_value": value, "st_size": size,
                 "st_info": {"bind": _BIND.get(info >> 4, info >> 4),
                             "type": _TYPE.get(info & 15, info & 15)},
                 "st_other": {"local": other >> 5,
                              "visibility": _VISIBILITY.get(other & 7, other & 7)},
                 "st_shndx": _SHNDX.get(shndx, shndx)}
        yield Symbol(entry, raw.decode("utf-8", errors="replace") if raw else "")
