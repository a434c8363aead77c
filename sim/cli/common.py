"""What the commands share: the parser's error convention, option types, the options of
every command that runs firmware, the rewriting of --profile words, and the board file as an
input. Outputs follow one rule (sim/cli/outputs.py); exit statuses one mapping
(sim/cli/exit_status.py)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import NoReturn

from mcusim.base.errors import UsageError
from mcusim.base.units import parse_size
from mcusim.sim.core.options import MAX_COUNT

DEFAULT_BOARD = "nucleo-f446re"
WIDE_OUTPUT = 1000  # columns of tables when not writing to a terminal
DEFAULT_TIMING = "table"
# mcusim.isa.timing.TIMING_MODELS, without importing the timing models (capstone) to list
# them in --help; tests/test_startup.py checks that the two agree.
TIMING_MODELS = ("table", "naive")

EXIT_CODES_HELP = """exit status:
  the program's own exit code when it exits (semihosting SYS_EXIT / SYS_EXIT_EXTENDED; outside
  0-255 its low byte, or 1 if that is 0), else
  64 bad command line, 65 malformed input (ELF, board file, .mtrace), 66 missing input file,
  73 output not writable or in the way, 80 memory fault, 81 undefined instruction or invalid
  state, 82 escalated fault (BKPT without debugger, SVC, exception return), 83 instruction/cycle
  limit or infinite loop, 84 system reset requested, 85 memory budget exceeded,
  130 interrupted (SIGINT), 143 terminated (SIGTERM), 70 internal error"""


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
    return fits(value, text)


def fits(value: int, text: str) -> int:
    """Counts and sizes reach 64-bit counters (the native path): refuse what would wrap."""
    if value > MAX_COUNT:
        raise argparse.ArgumentTypeError(f"{text} is too large (at most {MAX_COUNT:,})")
    return value


def seconds(text: str) -> float:
    try:
        value = float(text.removesuffix("s"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value < 1e7:
        raise argparse.ArgumentTypeError(f"expected a positive number of seconds, got {text!r}")
    return value


def size(text: str) -> int:
    try:
        value = parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return fits(value, text)


def window(text: str) -> tuple[int, int]:
    start, sep, end = text.partition(":")
    try:
        lo, hi = int(start or 0), int(end) if end else MAX_COUNT
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:END in cycles, got {text!r}") from None
    if not sep or hi <= lo or lo < 0 or hi > MAX_COUNT:
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
    parser.add_argument("--timeout", type=seconds, metavar="SECONDS",
                        help="stop the run after this much host time (exit 83, as a limit)")


def version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("mcusim")
    except PackageNotFoundError:
        return "(not installed)"


PROFILE_MODES = ("functions", "lines")


def profile_words(argv: list[str]) -> list[str]:
    """`--profile=MODE` and `--profile MODE` as the flags the parser knows."""
    out: list[str] = []
    words = iter(range(len(argv)))
    for i in words:
        word = argv[i]
        mode = None
        if word.startswith("--profile="):
            mode = word.partition("=")[2]
            if mode not in PROFILE_MODES:
                raise UsageError(f"--profile={mode}: expected one of "
                                 f"{', '.join(PROFILE_MODES)}")
        elif word == "--profile" and i + 1 < len(argv) and argv[i + 1] in PROFILE_MODES:
            mode = argv[i + 1]
            next(words)
        if mode is None:
            out.append(word)
        else:
            out.append("--profile-lines" if mode == "lines" else "--profile")
    return out


def board_file(board: str) -> Path | None:
    """The board file named by --board, an input of the run (a bundled name is not)."""
    return Path(board) if board.endswith(".toml") or "/" in board or "\\" in board else None
