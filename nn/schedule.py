"""A schedule: the ordered list of kernel calls that runs a graph, as data.

The layer-by-layer schedule has one `Step` per operator in graph order. The fields a step does
not need stay at their defaults, so other schedules are the same data with more filled in:
partial execution (issue 11) gives steps channel ranges and int32 accumulators, approximate
kernels (issue 12) give steps a kernel variant and its parameters. Code generation, the planner
and the reference all read steps, never an operator list directly.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

from mcusim.nn.graph import Graph

Range = tuple[int, int]  # [begin, end)


@dataclass
class Step:
    op: int  # index of the operator (graph.operators[op]) this step runs, whole or in part
    name: str  # region name in the firmware: cycles and live bytes are reported under it
    kernel: str = "exact"  # kernel variant; "exact" = the TFLite-Micro-exact library kernel
    out_channels: Range | None = None  # output channels this step computes (None: all)
    in_channels: Range | None = None  # input channels it consumes (None: all)
    accumulator: str | None = None  # int32 partial-sum buffer it adds into (Pex chains)
    first: bool = True  # with `accumulator`: this step starts the sum (else adds to it)
    params: dict[str, Any] = field(default_factory=dict)  # variant data (e.g. skip levels)

    @property
    def whole(self) -> bool:
        """Runs the operator in one go, as TFLite Micro would."""
        return self.out_channels is None and self.in_channels is None and \
            self.accumulator is None


@dataclass
class Schedule:
    kind: str  # "layers", "pex:N", a file name, ...
    steps: list[Step]

    def __iter__(self):
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def to_json_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "steps": [_step_dict(s) for s in self.steps]}

    @classmethod
    def from_json_dict(cls, d: dict[str, Any]) -> Schedule:
        steps = []
        for s in d["steps"]:
            s = dict(s)
            for key in ("out_channels", "in_channels"):
                if s.get(key) is not None:
                    s[key] = tuple(s[key])
            steps.append(Step(**s))
        return cls(d.get("kind", "file"), steps)

    def to_json_text(self) -> str:
        return json.dumps(self.to_json_dict(), indent=1) + "\n"


def _step_dict(step: Step) -> dict[str, Any]:
    d = asdict(step)
    # Keep printed/saved schedules short: omit fields at their defaults.
    defaults = Step(0, "")
    return {k: v for k, v in d.items()
            if k in ("op", "name") or v != getattr(defaults, k)}


def step_name(graph: Graph, op_index: int, suffix: str = "") -> str:
    """Region name of a step: operator index and type, e.g. "L03_CONV_2D" (plus a suffix for
    the parts of a split operator)."""
    return f"L{op_index:02d}_{graph.operators[op_index].type}{suffix}"


def layer_schedule(graph: Graph) -> Schedule:
    """TFLite Micro's execution: every operator once, whole, in graph order."""
    return Schedule("layers", [Step(op.index, step_name(graph, op.index)) for op in graph])
