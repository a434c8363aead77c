"""`mcusim dse` (approximate kernels' design-space exploration, mcusim.nn.approx.cli)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from mcusim.nn.approx.options import add_dse_parser

if TYPE_CHECKING:
    from rich.console import Console


def register(sub: Any) -> None:
    add_dse_parser(sub).set_defaults(command_main=main)


def main(args: argparse.Namespace, err: Console) -> int:
    from mcusim.nn.approx import cli as dse_cli

    return dse_cli.run(args, err=err)
