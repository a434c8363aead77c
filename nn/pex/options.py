"""The command-line options of partial execution (`mcusim nn --plot/--sweep`), declared apart
from nn/pex/cli.py (what runs them) so that building the parser imports nothing heavy."""

from __future__ import annotations

import argparse

from mcusim.base.outputs import output_path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--plot", type=output_path, metavar="OUT.png",
                        help="with a Pex schedule (none given: the automatic one): bytes "
                             "live over simulated time for it and for layer by layer, stacked "
                             "by tensor (with --sweep: peak SRAM against latency per slice "
                             "count)")
    parser.add_argument("--sweep", action="store_true",
                        help="run pex:N for N = 2, 4, 8, 16 and the automatic choice; print "
                             "(and with --plot, plot) peak SRAM against latency")
