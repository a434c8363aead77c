"""The `mcusim check` manifest: which firmware to run, how, and how much each figure may move.

    baseline = "kernels.baseline.json"      # relative to this file (--baseline overrides)

    [defaults]                              # applies to every entry unless it says otherwise
    board = "nucleo-f446re"
    tolerance = { cycles = "1%", stack = 16 }

    [[entry]]
    name = "conv3x3"
    elf = "../../kernels_c/build/nucleo-f446re/conv3x3.elf"
    exit_code = 0                           # default 0
    stdout = "..."                          # optional: the exact expected output

An entry names exactly one program: `elf = ...` today; `model = ...` (a .tflite for `mcusim nn`)
is reserved for model entries and refused until the model path exists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mcusim.base.errors import InputError
from mcusim.base.tomlfile import Fields, as_int, as_str, list_of, load_toml

# The figures a baseline records for every entry, in report order. `region.<name>` figures
# (cycles of each marker region) are compared with the `cycles` tolerance.
METRICS = ("cycles", "instructions", "stack", "peak_ram", "flash")
_NAME = re.compile(r"[A-Za-z0-9_.:+@-]+")


@dataclass(frozen=True)
class Tolerance:
    """How far a figure may grow before it is a regression: bytes/cycles, or a percentage."""

    amount: float = 0.0
    percent: bool = False

    @staticmethod
    def parse(value: Any) -> Tolerance:
        if isinstance(value, bool):
            raise ValueError("")
        if isinstance(value, (int, float)) and value >= 0:
            return Tolerance(float(value))
        if isinstance(value, str):
            text = value.strip()
            pct = text.endswith("%")
            number = float(text.rstrip("%").strip())
            if number >= 0:
                return Tolerance(number, pct)
        raise ValueError("a number >= 0, or a percentage such as \"2%\"")

    def allowed(self, baseline: int) -> float:
        return baseline * self.amount / 100 if self.percent else self.amount

    def __str__(self) -> str:
        number = f"{self.amount:g}"
        return f"{number}%" if self.percent else number


@dataclass(frozen=True)
class Entry:
    name: str
    elf: Path
    board: str
    args: tuple[str, ...] = ()
    clock: str | None = None
    timing: str = "table"
    fs_root: Path = Path(".")
    max_instructions: int | None = None
    max_cycles: int | None = None
    regions: tuple[tuple[str, str], ...] = ()  # symbol regions START:END
    exit_code: int = 0
    stdout: str | None = None
    tolerances: dict[str, Tolerance] = field(default_factory=dict)

    def tolerance(self, metric: str) -> Tolerance:
        key = "cycles" if metric.startswith("region.") else metric
        return self.tolerances.get(key, Tolerance())


@dataclass(frozen=True)
class Manifest:
    path: Path
    entries: list[Entry]
    baseline: Path | None


_ENTRY_KEYS = {"name", "elf", "model", "board", "args", "clock", "timing", "fs_root",
               "max_instructions", "max_cycles", "regions", "exit_code", "stdout", "tolerance"}


def _tolerances(fields: Fields | None, inherited: dict[str, Tolerance]) -> dict[str, Tolerance]:
    out = dict(inherited)
    if fields is None:
        return out
    fields.unknown_keys(set(METRICS))
    for metric in METRICS:
        if fields.has(metric):
            out[metric] = fields.get(metric, Tolerance.parse,
                                     "a number >= 0 or a percentage such as \"2%\"")
    return out


def _positive(v: Any) -> int:
    v = as_int(v)
    if v <= 0:
        raise ValueError("must be positive")
    return v


def _text(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("")
    return v


def _region(v: Any) -> tuple[str, str]:
    start, sep, end = as_str(v).partition(":")
    if not (sep and start and end):
        raise ValueError("expected START:END, two symbol names")
    return start, end


def _entry(f: Fields, defaults: dict[str, Any], default_tol: dict[str, Tolerance],
           base: Path) -> Entry:
    f.unknown_keys(_ENTRY_KEYS)
    merged = Fields({**defaults, **f.data}, f.file, f.where, InputError)
    name = f.get("name", as_str, "a name (letters, digits, _ . : + @ -)")
    if not _NAME.fullmatch(name):
        raise f.fail("name", "letters, digits and _ . : + @ - only", name)
    if f.has("model"):
        raise InputError(f"{f.file}: entry '{name}': model entries (model = ...) need the "
                         "`mcusim nn` model path, which this version of mcusim does not have; "
                         "use elf = ... for firmware")
    elf = f.get("elf", as_str, "the path of a firmware ELF, relative to the manifest")
    return Entry(
        name=name, elf=base / elf,
        board=merged.get("board", as_str, "a board name or .toml path"),
        args=tuple(merged.get("args", list_of(as_str), "a list of strings", default=[])),
        clock=merged.get("clock", as_str, "a frequency such as \"16MHz\"", required=False),
        timing=merged.get("timing", as_str, "table or naive", default="table"),
        fs_root=base / merged.get("fs_root", as_str, "a directory", default="."),
        max_instructions=merged.get("max_instructions", _positive, "a positive number",
                                    required=False),
        max_cycles=merged.get("max_cycles", _positive, "a positive number", required=False),
        regions=tuple(merged.get("regions", list_of(_region), "a list of \"START:END\"",
                                 default=[])),
        exit_code=merged.get("exit_code", as_int, "an integer", default=0),
        stdout=merged.get("stdout", _text, "a string", required=False),
        tolerances=_tolerances(f.table("tolerance", required=False), default_tol),
    )


def load_manifest(path: Path) -> Manifest:
    data = load_toml(path, InputError)
    top = Fields(data, path, "", InputError)
    top.unknown_keys({"baseline", "defaults", "entry"})
    base = path.parent
    defaults_fields = top.table("defaults", required=False)
    defaults: dict[str, Any] = {}
    default_tol: dict[str, Tolerance] = {}
    if defaults_fields is not None:
        defaults_fields.unknown_keys(_ENTRY_KEYS - {"name", "elf", "model", "stdout"})
        default_tol = _tolerances(defaults_fields.table("tolerance", required=False), {})
        defaults = {k: v for k, v in defaults_fields.data.items() if k != "tolerance"}
    entries = [_entry(f, defaults, default_tol, base) for f in top.tables("entry")]
    if not entries:
        raise InputError(f"{path}: no entries: add [[entry]] tables with name and elf")
    seen: set[str] = set()
    for e in entries:
        if e.name in seen:
            raise InputError(f"{path}: two entries are named '{e.name}'; names must be unique "
                             "(the baseline is keyed by them)")
        seen.add(e.name)
    baseline = top.get("baseline", as_str, "a path", required=False)
    return Manifest(path, entries, base / baseline if baseline else None)
