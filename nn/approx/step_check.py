"""What an approximate step of a schedule file must hold (`kernel: "approx"`), checked when the
file is read (nn/schedule_file.py): the operator is a CONV_2D or FULLY_CONNECTED run whole, and
its params are those `approx_params` writes (codegen.py): `keep` a hex bitmap of (OC, K) bits,
`granularity` 1 or 2, `level` one of skip/threshold, optional `slots` (the SMLAD operand order,
a permutation of 0..K-1 with -1 padding an odd K)."""

from __future__ import annotations

from typing import Any

from mcusim.nn.approx.codegen import KERNEL
from mcusim.nn.graph import Graph

PARAM_KEYS = ("keep", "granularity", "level", "slots")
KERNELS = ("exact", KERNEL)


def approx_step_problem(graph: Graph, op: int, whole: bool, params: dict[str, Any]) -> str | None:
    """Why these params cannot be an approximate step of operator `op` (None: they can)."""
    operator = graph.operators[op]
    if operator.type not in ("CONV_2D", "FULLY_CONNECTED"):
        return (f"kernel {KERNEL!r} runs CONV_2D and FULLY_CONNECTED operators only, operator "
                f"{op} is {operator.type}")
    if not whole:
        return f"kernel {KERNEL!r} runs an operator whole (no channel ranges or accumulator)"
    unknown = sorted(set(params) - set(PARAM_KEYS))
    if unknown:
        return (f"unknown params {', '.join(map(repr, unknown))} for kernel {KERNEL!r} "
                f"(it takes {', '.join(PARAM_KEYS)})")
    w = graph.tensor(operator.inputs[1]).shape
    oc, k = w[0], 1
    for d in w[1:]:
        k *= d
    keep = params.get("keep")
    digits = 2 * ((oc * k + 7) // 8)
    if not isinstance(keep, str) or len(keep) != digits or \
            any(c not in "0123456789abcdefABCDEF" for c in keep):
        return (f"params.keep must be the hex bitmap of the {oc}x{k} kept MAC positions "
                f"({digits} hex digits), got {_short(keep)}")
    granularity = params.get("granularity", 2)
    if granularity not in (1, 2) or isinstance(granularity, bool):
        return f"params.granularity must be 1 (positions) or 2 (SMLAD pairs), got {granularity!r}"
    level = params.get("level", {})
    if not isinstance(level, dict) or len(level) > 1 or \
            any(key not in ("skip", "threshold") or isinstance(v, bool)
                or not isinstance(v, int | float) for key, v in level.items()):
        return f"params.level must be {{\"skip\": F}} or {{\"threshold\": T}}, got {level!r}"
    slots = params.get("slots")
    if slots is not None:
        want = list(range(k)) + ([-1] if k & 1 else [])
        if not isinstance(slots, list) or \
                not all(isinstance(v, int) and not isinstance(v, bool) for v in slots) or \
                sorted(slots) != sorted(want):
            return (f"params.slots must order the {k} positions 0..{k - 1}"
                    f"{' and one -1 pad' if k & 1 else ''}, got {_short(slots)}")
    return None


def _short(v: Any) -> str:
    text = repr(v)
    return text if len(text) <= 60 else text[:57] + "..."
