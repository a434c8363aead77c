"""Source lines from the DWARF line table (pyelftools), for --profile=lines."""

from __future__ import annotations

import bisect
import os
from pathlib import Path

from elftools.common.exceptions import DWARFError, ELFError
from elftools.elf.elffile import ELFFile


class LineTable:
    """Address -> (file, line) for an ELF built with -g; empty when it has no DWARF."""

    def __init__(self, path: Path):
        self._starts: list[int] = []
        self._rows: list[tuple[str, int] | None] = []  # None: past the end of a sequence
        self.problem: str | None = None  # why damaged debug information was not used
        try:
            with open(path, "rb") as f:
                elf = ELFFile(f)
                if elf.has_dwarf_info():
                    self._read(elf)
        except Exception as e:  # noqa: BLE001 - pyelftools raises anything on damaged DWARF
            self._starts, self._rows = [], []
            if not isinstance(e, OSError | ELFError | DWARFError | ValueError):
                e = DWARFError(f"{type(e).__name__}: {e}")
            self.problem = (f"the DWARF line table of {path} is damaged ({e}); no line "
                            "information in the profile")

    def _read(self, elf: ELFFile) -> None:
        rows: list[tuple[int, int, str, int]] = []
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            program = dwarf.line_program_for_CU(cu)
            if program is None:
                continue
            files = program["file_entry"]
            dirs = program["include_directory"]
            version = program.header["version"]
            for entry in program.get_entries():
                state = entry.state
                if state is None:
                    continue
                if state.end_sequence:
                    rows.append((state.address, 0, "", 0))  # sorts before a row starting here
                    continue
                index = state.file if version >= 5 else state.file - 1
                if not 0 <= index < len(files):
                    continue
                fe = files[index]
                name = fe.name.decode(errors="replace")
                dir_index = fe.dir_index if version >= 5 else fe.dir_index - 1
                if 0 <= dir_index < len(dirs) and not os.path.isabs(name):
                    name = os.path.join(dirs[dir_index].decode(errors="replace"), name)
                rows.append((state.address, 1, os.path.normpath(name), state.line))
        rows.sort()
        self._starts = [r[0] for r in rows]
        self._rows = [(r[2], r[3]) if r[1] else None for r in rows]

    def __bool__(self) -> bool:
        return bool(self._starts)

    def lookup(self, address: int) -> tuple[str, int] | None:
        i = bisect.bisect_right(self._starts, address) - 1
        return self._rows[i] if i >= 0 else None
