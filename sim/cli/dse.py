"""`mcusim dse` (approximate kernels' design-space exploration, mcusim.nn.approx.cli)."""

from __future__ import annotations

import argparse
from typing import Any

from rich.console import Console

from mcusim.nn.approx import cli as dse_cli


def register(sub: Any) -> None:
    dse_cli.add_parser(sub)
    sub.choices["dse"].set_defaults(command_main=main)


def main(args: argparse.Namespace, err: Console) -> int:
    return dse_cli.run(args)
