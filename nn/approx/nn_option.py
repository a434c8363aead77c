"""`mcusim nn MODEL --approx CONFIG`: run a model with approximate kernels.

CONFIG (JSON or TOML) gives per-layer levels (see config.py) and optionally where the
significance comes from:

    {"layers": {"2": {"skip": 0.4}, "5": {"skip": 0.2}},
     "significance": "dse-out/significance.npz"}

`mcusim dse` writes such files next to its results (best-*.json). Without "significance" it is
computed from `--calib CALIB.npz` ('x', the model's int8 inputs), else from the model's default
deterministic pseudo-random inputs (which says little about real data: a warning is printed).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from mcusim.nn.approx.config import load_config_file
from mcusim.nn.approx.options import add_arguments
from mcusim.nn.approx.significance import load_significance
from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Schedule
from mcusim.nn.sim_api import InputError, MissingInputError

__all__ = ["add_arguments", "schedule_for"]  # add_arguments: nn/approx/options.py


def schedule_for(args: argparse.Namespace, graph: Graph, board: str,
                 warn=print) -> Schedule | None:
    """The approximate schedule asked for by --approx, or None."""
    if getattr(args, "approx", None) is None:
        return None
    from mcusim.nn.approx.study import EvalData, Study

    path: Path = args.approx
    if not path.is_file():
        raise MissingInputError(f"--approx {path}: no such file")
    config, sig_file = load_config_file(path, f"--approx {path}")
    unknown = sorted(set(config.layers) - {op.index for op in graph
                                            if op.type in ("CONV_2D", "FULLY_CONNECTED")})
    if unknown:
        raise InputError(f"--approx {path}: operators {unknown} are not CONV_2D / "
                         f"FULLY_CONNECTED layers of {graph.name}")
    model = Path(getattr(args, "model", graph.name))
    if args.calib is not None:
        x = EvalData.load(args.calib, graph, "--calib").x
    else:
        from mcusim.nn.reference import default_inputs

        x = np.concatenate([default_inputs(graph, seed)[0] for seed in range(16)])
    study = Study(model, board, EvalData(x, None), x, layers=sorted(config.layers))
    if sig_file:
        sig_path = (path.parent / sig_file) if not Path(sig_file).is_absolute() else \
            Path(sig_file)
        if not sig_path.is_file():
            raise MissingInputError(f"--approx {path}: significance file {sig_path} not found")
        where = f"--approx {path}: significance file {sig_path}"
        loaded = load_significance(sig_path, where)
        for op in config.layers:
            want = study.layers[op].weights.shape
            if op in loaded and loaded[op].positions.shape != want:
                raise InputError(f"{where}: array L{op:02d} has shape "
                                 f"{loaded[op].positions.shape}, operator {op} of "
                                 f"{model} has (OC, K) = {want} (a significance of another "
                                 "model?)")
        study.significance.update({op: loaded[op] for op in config.layers if op in loaded})
    elif args.calib is None:
        warn("mcusim nn: --approx without a significance file or --calib: significance from "
             "pseudo-random inputs")
    return study.schedule(config)
