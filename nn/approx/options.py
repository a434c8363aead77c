"""The command-line options of approximate kernels, declared apart from what runs them (the
`mcusim dse` parser, and `mcusim nn --approx/--calib`) so that building the parser imports
nothing heavy: nn/approx/cli.py runs `mcusim dse`, nn/approx/nn_option.py `--approx`."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mcusim.base.outputs import output_dir

DEFAULT_LEVELS = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]  # skip fractions tried per layer


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """`mcusim nn --approx CONFIG [--calib CALIB.npz]`."""
    parser.add_argument("--approx", type=Path, metavar="CONFIG",
                        help="approximate kernels: per-layer skip fractions or thresholds "
                        "(JSON/TOML; see mcusim dse, which writes them)")
    parser.add_argument("--calib", type=Path, metavar="CALIB.npz",
                        help="with --approx: calibration inputs for the significance, when "
                        "CONFIG does not name a significance file")


def add_dse_parser(sub: Any) -> argparse.ArgumentParser:
    """`mcusim dse`'s parser, added to the command's subparsers."""
    p = sub.add_parser(
        "dse", help="approximate kernels: explore per-layer skip levels (latency vs accuracy)",
        description="Design-space exploration of approximate CONV_2D / FULLY_CONNECTED kernels "
        "(least significant MAC positions skipped): accuracy on the host (top-1 against the "
        "labels in DATA, else agreement with the exact model), latency on the simulated board; "
        "prints and plots the Pareto front and writes every point (CSV, JSON). Measured "
        "candidates are cached in OUT, so an interrupted study resumes.")
    p.add_argument("model", type=Path, metavar="MODEL", help="int8 .tflite model")
    p.add_argument("--board", required=True, help="board name (mcusim boards) or file")
    p.add_argument("--data", type=Path, required=True, metavar="DATA.npz",
                   help="evaluation set: 'x' int8 quantised inputs (N first), optional 'y' labels")
    p.add_argument("--calib", type=Path, metavar="CALIB.npz",
                   help="calibration inputs for the significance ('x'; default: DATA's first 64)")
    p.add_argument("--levels", default=",".join(str(v) for v in DEFAULT_LEVELS),
                   help="skip fractions to try per layer (default: %(default)s)")
    p.add_argument("--layers", help="operator indices to approximate (default: every CONV_2D "
                   "and FULLY_CONNECTED)")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="Dask scheduler (e.g. tcp://host:8786): run candidates on that cluster")
    p.add_argument("--jobs", type=int, default=2,
                   help="local worker processes (default 2; 0: one per CPU; at most one per CPU)")
    p.add_argument("--max-grid", type=int, default=100,
                   help="explore the full grid when it has at most this many candidates")
    p.add_argument("--out", type=output_dir, default=Path("dse-out"), metavar="DIR",
                   help="output folder: points.csv, points.json, pareto.png, significance.npz, "
                   "cache.jsonl (default: ./dse-out; made if missing, in a folder that exists)")
    p.add_argument("--force", action="store_true", help="replace files in DIR not made by "
                   "mcusim dse")
    return p
