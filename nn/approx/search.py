"""Which per-layer skip levels to measure.

Few layers and levels: the full grid. Otherwise (Armeniakos et al. do per-layer sensitivity, then
combine): every layer alone at every level (that measures each layer's latency curve), then a
greedy walk from the exact model that, at each step, raises the one layer whose next level buys
the most estimated cycles per unit of host-measured accuracy lost. The walk's latency estimates
come from the per-layer curves (regions are per layer, so savings add up to a good
approximation); its accuracy is the host model's, exact for the combination. Every point of the
walk is then measured on the simulator like the others.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Mapping

Skips = dict[int, float | None]  # None (or absent): the layer runs the exact library kernel;
# a number: the generated kernel at that skip fraction (0.0 = generated, nothing skipped)


def grid(layers: list[int], levels: list[float]) -> list[Skips]:
    full = [None, *levels]
    return [dict(zip(layers, combo, strict=True))
            for combo in itertools.product(full, repeat=len(layers))]


def grid_size(layers: list[int], levels: list[float]) -> int:
    return (len(levels) + 1) ** len(layers)


def per_layer(layers: list[int], levels: list[float]) -> list[Skips]:
    return [{op: f} for op in layers for f in levels]


def greedy_walk(layers: list[int], levels: list[float], accuracy: Callable[[Skips], float],
                saving: Callable[[int, float | None], float], max_loss: float) -> list[Skips]:
    """The walk's configurations, in order. `saving(op, f)`: estimated cycles saved by layer op
    at level f (0 for the exact kernel, f = None); `accuracy(skips)`: host accuracy; stops when
    every layer is at its last level or the accuracy fell more than `max_loss` (fraction) below
    the exact model's."""
    full = [None, *levels]
    pos = dict.fromkeys(layers, 0)
    base = accuracy({})
    acc_now = base
    walk = []
    # One test sample is the smallest accuracy change the host can see; it bounds the ratio.
    eps = 1e-6
    while True:
        best = None
        for op in layers:
            if pos[op] + 1 >= len(full):
                continue
            cand = {o: full[p] for o, p in pos.items()}
            cand[op] = full[pos[op] + 1]
            gain = saving(op, cand[op]) - saving(op, full[pos[op]])
            acc = accuracy(cand)
            drop = max(acc_now - acc, 0.0)
            score = gain / (drop + eps) if gain > 0 else gain
            if best is None or score > best[0]:
                best = (score, op, acc, cand)
        if best is None:
            break
        _, op, acc, cand = best
        pos[op] += 1
        acc_now = acc
        walk.append({o: f for o, f in cand.items() if f is not None})
        if base - acc > max_loss:
            break
    return walk


def savings_table(exact_layers: Mapping[str, int], measured: Mapping[tuple[int, float],
                  Mapping[str, int]], region_of: Mapping[int, str]
                  ) -> Callable[[int, float | None], float]:
    """saving(op, f) from per-layer measurements: exact region cycles minus approx ones."""
    def saving(op: int, f: float | None) -> float:
        if f is None:
            return 0.0
        layer_cycles = measured.get((op, f))
        if layer_cycles is None:
            return 0.0
        name = region_of[op]
        return float(exact_layers[name] - layer_cycles[name])
    return saving
