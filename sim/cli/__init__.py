"""The `mcusim` command line. Each command is a module of this package with `register(sub)`,
which adds its parser and sets its `command_main(args, err) -> int`; COMMANDS lists them in
the order `mcusim --help` shows them. Commands only read the RunResult (and the simulation's
observers) after the run: they are views.

Start-up is part of the interface (`mcusim --help` in well under 0.15 s): a command module
imports only argparse-level things at its top; what its command runs on (the engine, Unicorn,
capstone, numpy, rich, pyelftools) is imported inside its `main`, and the console only once
there is something to print. tests/test_startup.py checks it; bench/startup.py measures it."""

from __future__ import annotations

import argparse
import atexit
import contextlib
import gc
import os
import signal
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from mcusim.base.errors import ExitCode, McusimError
from mcusim.sim.cli import boards, cache, check, dse, nn, run, trace, validate, view
from mcusim.sim.cli.common import (
    EXIT_CODES_HELP,
    WIDE_OUTPUT,
    Parser,
    negative_values,
    profile_words,
    version,
)
from mcusim.sim.cli.pipes import discarding_after_epipe

if TYPE_CHECKING:
    from rich.console import Console

# Adding a command: a module with register(sub), listed here.
COMMANDS = [run, trace, view, boards, validate, nn, dse, check, cache]


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="mcusim", description="Cycle-approximate Cortex-M simulator.",
                    epilog=EXIT_CODES_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action=_VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    for command in COMMANDS:
        command.register(sub)
    return parser


class _VersionAction(argparse._VersionAction):
    """`--version`, reading the installed version only when asked (importlib.metadata is
    slow to import)."""

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        self.version = f"mcusim {version()}"
        super().__call__(parser, namespace, values, option_string)


def error_console() -> Console:
    """The console of mcusim's messages (stderr); rich is imported when one is made."""
    from rich.console import Console

    # Not a terminal (a pipe, a CI log): no width to fit, so nothing is cut ("instructi…").
    # emoji=False: ":smile:" or "host:1234:" in a path or value is text, not an emoji code.
    # Messages with user text in them print with markup=False (sim/cli/common.py say()).
    return Console(stderr=True, highlight=False, emoji=False,
                   width=None if sys.stderr.isatty() else WIDE_OUTPUT)


def main(argv: Sequence[str] | None = None) -> int:
    process = argv is None
    if process:  # the `mcusim` process itself, not a caller of main()
        # At exit, what is alive is left to the OS instead of being traversed by the
        # interpreter's final garbage collection (20-50 ms after a run: the engine's objects,
        # Unicorn's). Every output file is closed by then (writers use `with`), and the
        # interpreter flushes stdout and stderr regardless.
        atexit.register(gc.freeze)
        # A reader that goes away (`| head`) must change neither the run nor its exit status
        # nor its output files: what is written to that stream from then on is discarded.
        sys.stdout, sys.stderr = discarding_after_epipe(sys.stdout), discarding_after_epipe(
            sys.stderr)
    argv = list(sys.argv[1:] if argv is None else argv)
    # Everything after "--" belongs to the program, even words that look like our options.
    program_args: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, program_args = argv[:cut], argv[cut + 1:]
    try:
        parser = build_parser()
        args = parser.parse_args(negative_values(parser, profile_words(argv)))
        args.program_args = program_args
        command_main = getattr(args, "command_main", None)
        if command_main is not None:
            return command_main(args, error_console())
        build_parser().print_help(sys.stderr)
        return int(ExitCode.USAGE)
    except McusimError as e:
        error_console().print(f"mcusim: error: {e}", soft_wrap=True, markup=False)
        return int(e.exit_code)
    except KeyboardInterrupt:
        if process:
            # What is left is the interpreter's exit (joining a worker pool's threads, ...): a
            # second Ctrl-C there would print a traceback, or leave the exit half done and
            # waiting; it ends mcusim at once instead, as during a run.
            signal.signal(signal.SIGINT, lambda *_: os._exit(130))
        error_console().print("mcusim: interrupted", markup=False)
        return 130
    except BrokenPipeError:
        # A caller's own stream (main() called with argv, not wrapped) lost its reader: stop
        # quietly, as command-line tools do.
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except Exception as e:  # noqa: BLE001 - never show a traceback to users
        if os.environ.get("MCUSIM_DEBUG"):
            raise
        error_console().print(f"mcusim: internal error: {type(e).__name__}: {e}. This is a bug "
                              "in mcusim; rerun with MCUSIM_DEBUG=1 for a traceback and report "
                              "it.", soft_wrap=True, markup=False)
        return int(ExitCode.INTERNAL)
