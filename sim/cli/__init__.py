"""The `mcusim` command line. Each command is a module of this package with `register(sub)`,
which adds its parser and sets its `command_main(args, err) -> int`; COMMANDS lists them in
the order `mcusim --help` shows them. Commands only read the RunResult (and the simulation's
observers) after the run: they are views."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from rich.console import Console

from mcusim.base.errors import ExitCode, McusimError
from mcusim.sim.cli import boards, check, dse, nn, run, trace, validate, view
from mcusim.sim.cli.common import EXIT_CODES_HELP, WIDE_OUTPUT, Parser, profile_words, version

# Adding a command: a module with register(sub), listed here.
COMMANDS = [run, trace, view, boards, validate, nn, dse, check]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mcusim", description="Cycle-approximate Cortex-M simulator.",
                    epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"mcusim {version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    # Not a terminal (a pipe, a CI log): no width to fit, so nothing is cut ("instructi…").
    err = Console(stderr=True, highlight=False,
                  width=None if sys.stderr.isatty() else WIDE_OUTPUT)
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" belongs to the program, even words that look like our options.
    program_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1:]
    try:
        args = build_parser().parse_args(profile_words(argv))
        args.program_args = program_args
        command_main = getattr(args, "command_main", None)
        if command_main is not None:
            return command_main(args, err)
        build_parser().print_help(sys.stderr)
        return int(ExitCode.USAGE)
    except McusimError as e:
        err.print(f"mcusim: error: {e}", soft_wrap=True, markup=False)
        return int(e.exit_code)
    except KeyboardInterrupt:
        err.print("mcusim: interrupted", markup=False)
        return 130
    except BrokenPipeError:
        # The reader went away (e.g. `| head`): stop quietly, as command-line tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:  # noqa: BLE001 - never show a traceback to users
        if os.environ.get("MCUSIM_DEBUG"):
            raise
        err.print(f"mcusim: internal error: {type(e).__name__}: {e}. This is a bug in mcusim; "
                  "rerun with MCUSIM_DEBUG=1 for a traceback and report it.", soft_wrap=True,
                  markup=False)
        return int(ExitCode.INTERNAL)
