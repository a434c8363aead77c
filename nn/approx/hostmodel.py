"""The host model of an approximate network: numpy, bit-exact with the generated kernels.

An approximate kernel computes, for the positions it keeps, exactly what the TFLite int8 kernel
computes, and nothing for the ones it skips; that is the exact network with the skipped weights
set to zero. So the host model is the model path's numpy reference (mcusim.nn.reference, which
is bit-exact with TFLite Micro) run on a copy of the graph whose approximated layers carry their
masked weights. With nothing skipped it is the reference itself.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping

import numpy as np

from mcusim.nn import reference
from mcusim.nn.approx.config import ApproxConfig, masked_weights
from mcusim.nn.approx.significance import LayerSignificance
from mcusim.nn.graph import Graph


def approx_graph(graph: Graph, config: ApproxConfig, sig: Mapping[int, LayerSignificance],
                 granularity: int) -> Graph:
    """A copy of `graph` whose approximated layers have their skipped weights zeroed."""
    g = copy.copy(graph)
    g.tensors = list(graph.tensors)
    for op_index, level in config.layers.items():
        op = graph.operators[op_index]
        wt = graph.tensors[op.inputs[1]]
        w = wt.data.reshape(wt.shape[0], -1)
        wm = masked_weights(w, sig[op_index], level, granularity).reshape(wt.shape)
        g.tensors[wt.index] = copy.replace(wt, data=wm) if hasattr(copy, "replace") else \
            _with_data(wt, wm)
    return g


def _with_data(tensor, data):
    t = copy.copy(tensor)
    t.data = data
    return t


class HostModel:
    """Runs one graph for many approximate configurations on a fixed input batch, reusing the
    exact prefix: operators before the first approximated one are evaluated once."""

    def __init__(self, graph: Graph, inputs: np.ndarray, sig: Mapping[int, LayerSignificance],
                 granularity: int):
        self.graph = graph
        self.sig = sig
        self.granularity = granularity
        self.exact_values = reference.run_reference(graph, [inputs])

    def run(self, config: ApproxConfig) -> dict[int, np.ndarray]:
        """Every activation tensor's value under `config` (N leading)."""
        if not config.layers:
            return self.exact_values
        g = approx_graph(self.graph, config, self.sig, self.granularity)
        first = min(config.layers)
        values = {t: v for t, v in self.exact_values.items()
                  if t in self.graph.inputs or _produced_before(self.graph, t, first)}
        for op in g.operators[first:]:
            values[op.outputs[0]] = reference.run_op(g, op, values)
        return values

    def outputs(self, config: ApproxConfig) -> np.ndarray:
        return self.run(config)[self.graph.outputs[0]]

    def inputs_of(self, op_index: int) -> np.ndarray:
        """The exact network's values of an operator's first input (calibration, significance)."""
        return self.exact_values[self.graph.operators[op_index].inputs[0]]


def _produced_before(graph: Graph, tensor: int, op_index: int) -> bool:
    prod = graph.producer(tensor)
    return prod is not None and prod.index < op_index


def top1(outputs: np.ndarray) -> np.ndarray:
    """Predicted class per row (first maximum, as numpy's argmax)."""
    return np.argmax(outputs.reshape(outputs.shape[0], -1), axis=1)
