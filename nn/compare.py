"""Firmware outputs against the reference: "match", or where they first differ."""

from __future__ import annotations

import numpy as np

from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Schedule

MATCH = "match"


def _diff(name: str, got: np.ndarray, want: np.ndarray) -> str | None:
    want = want.reshape(got.shape)
    if np.array_equal(got, want):
        return None
    bad = np.argwhere(got != want)
    first = tuple(int(i) for i in bad[0])
    delta = np.abs(got.astype(np.float64) - want.astype(np.float64)).max()
    return (f"{name}: {len(bad)} of {got.size} values differ (largest difference {delta:g}); "
            f"first at {first}: firmware {got[first]}, reference {want[first]}")


def describe_mismatch(graph: Graph, schedule: Schedule, reference: dict[int, np.ndarray],
                      outputs: dict[int, np.ndarray],
                      layer_outputs: dict[int, np.ndarray]) -> str:
    """The first step whose output differs (when layer outputs were read), else the first
    differing model output, else "match"."""
    for step in schedule:
        t = graph.operators[step.op].outputs[0]
        if t in layer_outputs:
            d = _diff(f"layer {step.op} {graph.operators[step.op].type} ({step.name})",
                      layer_outputs[t], reference[t][:1])
            if d:
                return d
    for n, t in enumerate(graph.outputs):
        d = _diff(f"output {n} ('{graph.tensors[t].name}')", outputs[t], reference[t][:1])
        if d:
            return d
    return MATCH
