"""`mcusim boards`: the bundled boards as a table."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from mcusim.sim.cli.common import WIDE_OUTPUT

if TYPE_CHECKING:
    from rich.console import Console


def register(sub: Any) -> None:
    boards = sub.add_parser("boards", help="list the bundled boards")
    boards.set_defaults(command_main=main)


def main(args: argparse.Namespace, err: Console) -> int:
    from rich.console import Console

    from mcusim.memory.board import available_boards, load_board
    from mcusim.sim.cli.report import boards_table

    boards = [load_board(name) for name in available_boards()]
    width = None if sys.stdout.isatty() else WIDE_OUTPUT
    Console(highlight=False, width=width).print(boards_table(boards))
    return 0
