"""What the commands share: the parser's error convention, option types, the options of
every command that runs firmware, the refusal to overwrite a user's file, and exit codes."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn, TextIO

from mcusim.base.errors import OutputError, UsageError
from mcusim.base.units import parse_size
from mcusim.sim.core.faults import FAULT_EXIT_CODES
from mcusim.sim.result import SCHEMA, RunResult

DEFAULT_BOARD = "nucleo-f446re"
DEFAULT_TIMING = "table"

EXIT_CODES_HELP = """exit status:
  the program's own exit code when it exits (semihosting SYS_EXIT / SYS_EXIT_EXTENDED), else
  64 bad command line, 65 malformed input (ELF, board file), 66 missing input file,
  73 output not writable, 80 memory fault, 81 undefined instruction or invalid state,
  82 escalated fault (BKPT without debugger, SVC, exception return), 83 instruction/cycle
  limit or infinite loop, 84 system reset requested, 85 memory budget exceeded,
  70 internal error"""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""), 0)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {value}")
    return value


def size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return value


def window(text: str) -> tuple[int, int]:
    start, sep, end = text.partition(":")
    try:
        lo, hi = int(start or 0), int(end) if end else 1 << 63
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END in cycles, got {text!r}") from None
    if not sep or hi <= lo:
        raise argparse.ArgumentTypeError(f"expected START:END in cycles, got {text!r}")
    return lo, hi


def add_target_options(parser: argparse.ArgumentParser) -> None:
    """What every command that runs firmware takes: the ELF, where it runs, and its limits."""
    parser.add_argument("elf", type=Path, help="ELF built with arm-none-eabi-gcc")
    parser.add_argument("--board", default=DEFAULT_BOARD,
                        help=f"board name or path to a board .toml (default: {DEFAULT_BOARD})")
    parser.add_argument("--clock", help="override the board's clock, e.g. 16MHz")
    parser.add_argument("--fs-root", type=Path, default=Path("."),
                        help="the only host directory the program's file calls may use "
                             "(default: the current directory)")
    parser.add_argument("--max-instructions", type=positive_int, metavar="N")


# What the start of each output mcusim writes looks like: an existing file that does not
# look like this is the user's, and is not replaced without --force.
_SIGNATURES = {
    "--json": lambda head: f'"schema": "{SCHEMA}"' in head,
    "--callgrind": lambda head: head.startswith("# callgrind format") and "mcusim" in head,
    "--collapsed": lambda head: all(re.fullmatch(r".* \d+", ln)
                                    for ln in head.splitlines()[:-1]),
    "--trace-out": lambda head: head.startswith('{"traceEvents"'),
    "-o": lambda head: head.startswith("PK\x03\x04"),  # an .mtrace is a zip (npz)
}


def check_output(option: str, path: Path, force: bool) -> None:
    """Refuse to replace a file the user wrote, unless asked to."""
    if path.is_dir():
        raise OutputError(f"{option} {path}: is a directory; give a file name")
    if not path.parent.exists():
        raise OutputError(f"{option} {path}: directory {path.parent} does not exist")
    if path.exists() and not force:
        try:
            head = path.read_text(errors="replace")[:400]
        except OSError:
            head = "?"
        if head.strip() and not _SIGNATURES[option](head):
            raise OutputError(
                f"{option} {path}: the file exists and was not written by mcusim; not "
                "overwriting it (use --force to replace it)"
            )


def write_output(option: str, path: Path, write: Callable[[TextIO], None]) -> None:
    try:
        with open(path, "w") as f:
            write(f)
    except OSError as e:
        raise OutputError(f"{option} {path}: cannot write: {e.strerror}") from None


def exit_status(result: RunResult) -> int:
    """The program's own exit code when it exited, else the code of why the run stopped."""
    if result.exit_code is not None:
        return result.exit_code & 0xFF
    return int(FAULT_EXIT_CODES[result.stop])
