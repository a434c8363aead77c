"""What the commands share: the parser's error convention, option types, the options of
every command that runs firmware, the rewriting of --profile words, and the board file as an
input. Outputs follow one rule (base/outputs.py); exit statuses one mapping
(sim/cli/exit_status.py)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from mcusim.base.errors import MissingInputError, UsageError
from mcusim.base.units import MAX_COUNT, parse_size

if TYPE_CHECKING:
    from mcusim.sim.core.options import IrqSchedule

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
  73 output not writable or in the way, or the --gdb port busy, 80 memory fault, 81 undefined
  instruction or invalid state, 82 escalated fault (BKPT without debugger, SVC, exception
  return), 83 instruction/cycle limit or infinite loop, 84 system reset requested, 85 memory
  budget exceeded, 130 interrupted (SIGINT), 143 terminated (SIGTERM), 70 internal error"""


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
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    try:
        value = parse_size(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive size, got {text!r}")
    return fits(value, text)


def clock(text: str) -> str:
    """--clock's text (the board parses it); a negative one is refused here, by its sign."""
    if text.strip().startswith("-"):
        raise argparse.ArgumentTypeError(f"expected a positive frequency such as 16MHz, got "
                                         f"{text!r}")
    return text


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
    parser.add_argument("--clock", type=clock, help="override the board's clock, e.g. 16MHz")
    parser.add_argument("--fs-root", type=Path, default=Path("."),
                        help="the only host directory the program's file calls may use "
                             "(default: the current directory)")
    parser.add_argument("--max-instructions", type=positive_int, metavar="N",
                        help="stop the run after N instructions (exit 83, a limit)")
    parser.add_argument("--timeout", type=seconds, metavar="SECONDS",
                        help="stop the run after this much host time (exit 83, as a limit)")


def program_argv(args: argparse.Namespace) -> list[str]:
    """The program's argv: the ELF's file name (as the Python API gives it), not the path as
    typed, since the start-up copies argv and the path would change the counts; then the
    words after `--`."""
    return [args.elf.name, *args.program_args]


def argv_warnings(argv: list[str]) -> list[str]:
    """What the program will not see as typed: SYS_GET_CMDLINE gives one line, the words
    joined by spaces as QEMU and a debug probe (OpenOCD's semihosting_cmdline) give it, and
    the program's start-up splits it again, so an argument with white space in it (or an
    empty one) does not arrive as one argument."""
    out = []
    for word in argv[1:]:
        if word == "" or any(c.isspace() for c in word):
            out.append(f"program argument {word!r}: the semihosting command line joins the "
                       "arguments with spaces (as QEMU and debug probes do), and the program's "
                       "start-up splits it at white space, so it does not reach argv as one "
                       "argument")
    return out


def check_fs_root(path: Path) -> None:
    """--fs-root must be a directory that exists: a missing one would only show as the
    program's failing file calls."""
    if not path.exists():
        raise MissingInputError(f"--fs-root {path}: no such directory")
    if not path.is_dir():  # (as a missing one: the README's exit-code table, 66)
        raise MissingInputError(f"--fs-root {path}: not a directory; give the folder the "
                                "program's file calls are confined to")


def clock_warnings(clock_hz: int, max_clock_hz: int, board: str) -> list[str]:
    """A --clock above what the SoC is specified for runs (the flash wait states stop at the
    table's last step), but its figures describe no real part: say so."""
    from mcusim.base.units import format_frequency

    if clock_hz <= max_clock_hz:
        return []
    return [f"--clock {format_frequency(clock_hz)} is above {board}'s maximum of "
            f"{format_frequency(max_clock_hz)}: no real part runs there (the flash wait "
            "states are the board table's for that clock, its last step past the table)"]


def irq_warnings(interrupts: Sequence[IrqSchedule], core: str) -> list[str]:
    """A --irq period shorter than the core's exception entry and return (its cycle table)
    pends the IRQ again before its handler can have returned: the handler runs back to back
    and the program may never get further."""
    periodic = [s for s in interrupts if s.period is not None]
    if not periodic:
        return []
    from mcusim.isa.cycles import load_cycle_table

    latency = load_cycle_table(core).exceptions or {}
    round_trip = latency.get("entry", 0) + latency.get("exit", 0)
    return [f"--irq {s.irq}@{s.cycle}/{s.period}: a period of {s.period:,} cycles is shorter "
            f"than {core}'s exception entry and return ({round_trip} cycles): the handler runs "
            "back to back and the program may never get further (Ctrl-C stops the run)"
            for s in periodic if s.period is not None and s.period < round_trip]


def disabled_irq_warnings(interrupts: Sequence[IrqSchedule],
                          is_enabled: Callable[[int], bool]) -> list[str]:
    """--irq for an IRQ the NVIC does not have enabled when the run ends: pending alone runs
    nothing, so unless the program enabled it for a while the option had no effect."""
    from mcusim.sim.devices.exc_numbers import FIRST_IRQ

    return [f"--irq {s.irq}@{s.cycle}{'' if s.period is None else f'/{s.period}'}: IRQ "
            f"{s.irq} was not enabled in the NVIC when the run "
            "ended; if the program never enabled it (NVIC_ISER), its handler never ran"
            for s in interrupts if not is_enabled(s.irq + FIRST_IRQ)]


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


def negative_values(parser: argparse.ArgumentParser, argv: list[str]) -> list[str]:
    """`--max-stack -4K` as `--max-stack=-4K`: argparse takes a word starting with "-" for
    an option (unless it is a plain number), which would say "expected one argument"; joined,
    the value reaches the option's own check ("expected a positive size")."""
    takes_value = _options_with_values(parser)
    out: list[str] = []
    i = 0
    while i < len(argv):
        word = argv[i]
        if (word in takes_value and i + 1 < len(argv) and len(argv[i + 1]) > 1
                and argv[i + 1][0] == "-" and (argv[i + 1][1].isdigit() or argv[i + 1][1] == ".")):
            out.append(f"{word}={argv[i + 1]}")
            i += 2
            continue
        out.append(word)
        i += 1
    return out


def _options_with_values(parser: argparse.ArgumentParser) -> set[str]:
    """The option strings (of the parser and its subcommands) that take one value."""
    found: set[str] = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in set(action.choices.values()):
                found |= _options_with_values(sub)
        elif action.option_strings and action.nargs is None:
            found.update(o for o in action.option_strings if o.startswith("--"))
    return found


def board_file(board: str) -> Path | None:
    """The board file named by --board, an input of the run (a bundled name is not)."""
    return Path(board) if board.endswith(".toml") or "/" in board or "\\" in board else None
