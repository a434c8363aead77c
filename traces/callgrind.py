"""A profile in the callgrind format, for KCachegrind/QCachegrind and `callgrind_annotate`.

Format reference: https://valgrind.org/docs/manual/cl-format.html. Names are written in full
(no name compression): the files are small and plain names cannot be mis-resolved by a reader.
Every call record carries an explicit `cfl=`, because readers that miss it take the callee to
be in the caller's file, which splits a function in two when the files differ.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TextIO

from mcusim.traces.profile import FunctionProfile, LineProfile, Profile

UNKNOWN_FILE = "???"  # what valgrind itself writes for code without debug info


def _clean(text: str) -> str:
    # A name runs to the end of its line, so a newline in it would corrupt the file.
    return text.replace("\r", " ").replace("\n", " ")


def _file_of(function: FunctionProfile | None) -> str:
    return _clean(function.file) if function is not None and function.file else UNKNOWN_FILE


def _line_of(function: FunctionProfile | None) -> int:
    return function.line if function is not None and function.line is not None else 0


def _self_cost_lines(function: FunctionProfile, lines: list[LineProfile], out: TextIO) -> None:
    """Self cost of one function, per source line where known; `fl=` is the function's file."""
    home = _file_of(function)
    current = home
    cycles = instructions = 0
    for line in sorted(lines, key=lambda x: (x.file, x.line)):
        # Code inlined from another file (a header) is marked with fi=, as valgrind does.
        file = _clean(line.file) if line.file else UNKNOWN_FILE
        if file != current:
            out.write(f"fi={file}\n" if file != home else f"fe={home}\n")
            current = file
        out.write(f"{max(line.line, 0)} {line.cycles} {line.instructions}\n")
        cycles += line.cycles
        instructions += line.instructions
    if current != home:
        out.write(f"fe={home}\n")
    # Instructions without a line (or a function without lines at all) still cost: the
    # remainder goes to the function's first line so the function's self total is exact.
    rest_cycles = max(function.self_cycles - cycles, 0)
    rest_instructions = max(function.instructions - instructions, 0)
    if rest_cycles or rest_instructions or not lines:
        out.write(f"{_line_of(function)} {rest_cycles} {rest_instructions}\n")


def write_callgrind(profile: Profile, out: TextIO, *, command: str, elf: str) -> None:
    """Write `profile` as a callgrind profile (events: Cycles Instructions, positions: line)."""
    by_name = {f.name: f for f in profile.functions}
    lines_of: dict[str, list[LineProfile]] = defaultdict(list)
    for line in profile.lines:
        lines_of[line.function].append(line)
    edges_of = defaultdict(list)
    for edge in profile.edges:
        edges_of[edge.caller].append(edge)

    out.write("# callgrind format\n")
    out.write("version: 1\n")
    out.write("creator: mcusim\n")
    out.write(f"cmd: {_clean(command)}\n")
    out.write(f"desc: Clock: {profile.clock_hz} Hz\n")
    out.write("positions: line\n")
    out.write("events: Cycles Instructions\n")
    out.write(f"summary: {profile.total_cycles} {profile.total_instructions}\n")
    out.write(f"\nob={_clean(elf)}\n")

    # A caller known only from an edge still needs a block to hold its call records.
    callers_only = sorted(set(edges_of) - set(by_name))
    blocks = [*profile.functions,
              *(FunctionProfile(name, 0, 0, 0, 0) for name in callers_only)]
    for function in blocks:
        out.write(f"\nfl={_file_of(function)}\n")
        out.write(f"fn={_clean(function.name)}\n")
        _self_cost_lines(function, lines_of.get(function.name, []), out)
        for edge in edges_of.get(function.name, []):
            if edge.calls <= 0 and not (edge.inclusive_cycles or edge.inclusive_instructions):
                continue
            callee = by_name.get(edge.callee)
            out.write(f"cfl={_file_of(callee)}\n")
            out.write(f"cfn={_clean(edge.callee)}\n")
            # Readers take the cost line after `calls=0` as self cost, so a costed edge
            # without a completed call count is written as one call.
            out.write(f"calls={max(edge.calls, 1)} {_line_of(callee)}\n")
            # The call site line is not recorded, so the call is placed at the caller's line.
            out.write(f"{_line_of(function)} {edge.inclusive_cycles} "
                      f"{edge.inclusive_instructions}\n")

    out.write(f"\ntotals: {profile.total_cycles} {profile.total_instructions}\n")
