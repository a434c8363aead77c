"""Evaluation and calibration sets (`mcusim dse --data/--calib`, `mcusim nn --calib`): an .npz
with 'x', the model's int8 quantised inputs (N first), and optionally 'y', one integer class
label per input. Every array is checked where the file is read, so a malformed set gets one
message naming the file, the array and what was expected."""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

import numpy as np

from mcusim.nn.graph import Graph
from mcusim.nn.sim_api import InputError

# What numpy raises reading an .npz (or .npy) that is corrupt (a truncated file, a broken zip
# directory, a bad deflate stream in a member) or holds object data: opening it or one array.
NPZ_ERRORS = (OSError, ValueError, EOFError, zipfile.BadZipFile, zlib.error)


def open_npz(path: Path, where: str, expected: str) -> np.lib.npyio.NpzFile:
    """`path` opened as an .npz without pickled objects, or an InputError naming `where` and
    what was `expected` (numpy's own advice on allow_pickle is no help to a user)."""
    try:
        z = np.load(path, allow_pickle=False)
    except NPZ_ERRORS:
        raise InputError(f"{where}: numpy cannot read it as an .npz; {expected}") from None
    if not isinstance(z, np.lib.npyio.NpzFile):
        raise InputError(f"{where}: a single .npy array; {expected}")
    return z


def load_eval_arrays(path: Path, graph: Graph, what: str = "--data"
                     ) -> tuple[np.ndarray, np.ndarray | None]:
    """(x, y) of a data set; y is None when the file has no labels."""
    where = f"{what} {path}"
    t = graph.tensors[graph.inputs[0]]
    shape = f"(N, {', '.join(map(str, t.shape[1:]))})"
    expected = f"expected an .npz with 'x', int8 {shape} quantised inputs, and optional 'y'"
    with open_npz(path, where, expected) as z:
        if "x" not in z.files:
            raise InputError(f"{where}: has no array 'x' (it has: "
                             f"{', '.join(z.files) or 'none'}); {expected}")
        try:
            x, y = z["x"], z["y"] if "y" in z.files else None
        except NPZ_ERRORS:
            raise InputError(f"{where}: 'x' or 'y' cannot be read (corrupt, or object data); "
                             f"{expected}") from None
    if x.dtype != np.int8 or x.ndim < 1 or tuple(x.shape[1:]) != tuple(t.shape[1:]):
        raise InputError(f"{where}: 'x' is {x.dtype} {tuple(x.shape)}, the model wants int8 "
                         f"{shape} quantised inputs")
    if len(x) == 0:
        raise InputError(f"{where}: 'x' holds no inputs (shape {tuple(x.shape)}); give at "
                         "least one")
    if y is None:
        return x, None
    classes = graph.tensors[graph.outputs[0]].shape[-1]
    whole = y.dtype.kind in "iu" or (y.dtype.kind == "f" and bool(np.all(np.isfinite(y)))
                                     and bool(np.all(y == np.round(y))))
    if not whole or y.ndim > 2 or (y.ndim == 2 and y.shape[1] != 1):
        raise InputError(f"{where}: 'y' is {y.dtype} {tuple(y.shape)}; expected one integer "
                         f"class label (0..{classes - 1}) per input, shape ({len(x)},)")
    y = y.astype(np.int64).reshape(-1)
    if len(y) != len(x):
        raise InputError(f"{where}: 'y' has {len(y)} labels for {len(x)} inputs in 'x'; "
                         "expected one label per input")
    if y.size and (y.min() < 0 or y.max() >= classes):
        raise InputError(f"{where}: 'y' has labels {int(y.min())}..{int(y.max())}; the model "
                         f"has {classes} classes (labels 0..{classes - 1})")
    return x, y
