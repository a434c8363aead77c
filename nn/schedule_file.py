"""Reading a schedule JSON a user passes to `--schedule FILE`: every field checked where the
file is read, so a malformed file gets one message naming the file, the step and the field
(never a Python error from deep inside the planner or the code generator).

A file is a saved mcusim.nn/1 result (its `schedule`) or a bare schedule
`{"kind": ..., "steps": [{"op": 3, "name": "L03_CONV_2D", ...}, ...]}`; the fields of a step
are those of `Step` (nn/schedule.py)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mcusim.nn.graph import Graph
from mcusim.nn.schedule import Schedule, Step
from mcusim.nn.sim_api import InputError

SCHEDULE_KEYS = ("kind", "steps")
STEP_KEYS = ("op", "name", "kernel", "out_channels", "in_channels", "accumulator", "first",
             "params")


class ScheduleFileError(InputError):
    """A schedule file that is not valid JSON or whose fields are not what a schedule holds."""


def load_schedule_file(path: Path, graph: Graph) -> Schedule:
    spec = str(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise InputError(f"--schedule {spec}: cannot read: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ScheduleFileError(f"--schedule {spec}: not a text file (expected a schedule "
                                "JSON)") from None
    try:
        doc = json.loads(text)
    except ValueError as e:
        raise ScheduleFileError(f"--schedule {spec}: not valid JSON ({e})") from None
    return parse_schedule(doc, graph, spec)


def parse_schedule(doc: Any, graph: Graph, spec: str) -> Schedule:
    """The checked Schedule of a decoded JSON document (`spec` names it in messages)."""
    def fail(what: str) -> ScheduleFileError:
        return ScheduleFileError(f"--schedule {spec}: {what}")

    if not isinstance(doc, dict):
        raise fail(f"expected a JSON object (a schedule or a saved mcusim nn --json result), "
                   f"got {_kind(doc)}")
    d = doc.get("schedule", doc)
    if not isinstance(d, dict):
        raise fail(f"'schedule' must be an object with 'kind' and 'steps', got {_kind(d)}")
    if unknown := _unknown(d, SCHEDULE_KEYS):
        raise fail(f"unknown field(s) {unknown}; a schedule has "
                   f"{' and '.join(map(repr, SCHEDULE_KEYS))}")
    kind = d.get("kind", "file")
    if not isinstance(kind, str):
        raise fail(f"'kind' must be a string, got {_kind(kind)}")
    steps = d.get("steps")
    if not isinstance(steps, list) or not steps:
        raise fail("expected 'steps', a non-empty list of steps "
                   '(e.g. [{"op": 0, "name": "L00_CONV_2D"}])' if steps is None else
                   f"'steps' must be a non-empty list of steps, got "
                   f"{'an empty list' if steps == [] else _kind(steps)}")
    schedule = Schedule(kind, [_step(s, i, graph, fail) for i, s in enumerate(steps)])
    names = [step.name for step in schedule]
    dup = next((n for n in names if names.count(n) > 1), None)
    if dup is not None:
        raise fail(f"step name {dup!r} is used by {names.count(dup)} steps (each step is a "
                   "region of its own: give them different names)")
    if all(step.whole and "rows" not in step.params for step in schedule):
        _check_order(graph, schedule, fail)
    else:
        try:  # a partial schedule: every channel and row produced once, before it is read
            from mcusim.nn.pex.buffers import validate
        except ImportError:
            pass
        else:
            try:
                validate(graph, schedule)
            except InputError as e:
                raise fail(str(e)) from None
    return schedule


def _check_order(graph: Graph, schedule: Schedule, fail) -> None:
    """Whole operators: each runs after the operators it reads from, and every one runs (an
    operator may run again)."""
    produced = set(graph.inputs)
    for i, step in enumerate(schedule):
        op = graph.operators[step.op]
        for t in op.inputs:
            if t is not None and not graph.tensors[t].is_const and t not in produced:
                raise fail(f"step {i} ({step.name}) runs operator {step.op} {op.type} before "
                           f"its input tensor {t} is computed (steps must follow the data)")
        produced.update(op.outputs)
    missing = sorted({op.index for op in graph} - {step.op for step in schedule})
    if missing:
        raise fail(f"operator(s) {missing} of the model are run by no step (every operator "
                   "must run)")


def _unknown(d: dict, keys: tuple[str, ...]) -> str:
    """The fields of `d` that are not `keys`, quoted and in order ('' if none)."""
    return ", ".join(map(repr, sorted(set(d) - set(keys))))


def _step(s: Any, i: int, graph: Graph, fail) -> Step:
    where = f"step {i}"
    if not isinstance(s, dict):
        raise fail(f"{where} must be an object with at least 'op' and 'name', got {_kind(s)}")
    if unknown := _unknown(s, STEP_KEYS):
        raise fail(f"{where}: unknown field(s) {unknown} (a step has "
                   f"{', '.join(STEP_KEYS)})")
    missing = [k for k in ("op", "name") if k not in s]
    if missing:
        raise fail(f"{where}: missing field(s) {', '.join(map(repr, missing))} (the operator "
                   "index and the step's region name)")
    op = s["op"]
    n_ops = len(graph.operators)
    if not _is_int(op) or not 0 <= op < n_ops:
        raise fail(f"{where}: 'op' must be an operator index 0..{n_ops - 1} of the model, got "
                   f"{op!r}")
    where = f"step {i} (op {op})"
    if not isinstance(s["name"], str) or not s["name"].isidentifier():
        raise fail(f"{where}: 'name' must be a region name made of letters, digits and _ "
                   f"(e.g. L{op:02d}_{graph.operators[op].type}), got {s['name']!r}")
    kernel = s.get("kernel", "exact")
    if not isinstance(kernel, str):
        raise fail(f"{where}: 'kernel' must be a string, got {kernel!r}")
    operator = graph.operators[op]
    ranges = {}
    for key, tensor in (("out_channels", operator.outputs[0]), ("in_channels",
                                                                operator.inputs[0])):
        r = ranges[key] = _range(s.get(key), key, where, fail)
        channels = graph.tensors[tensor].shape[-1]
        if r is not None and r[1] > channels:
            raise fail(f"{where}: '{key}' {list(r)} goes past the {channels} channels of "
                       f"operator {op} {operator.type}'s {key.split('_')[0]}put")
    accumulator = s.get("accumulator")
    if accumulator is not None and (not isinstance(accumulator, str)
                                    or not accumulator.isidentifier()):
        raise fail(f"{where}: 'accumulator' must be a buffer name like \"acc{op}\" or null, got "
                   f"{accumulator!r}")
    first = s.get("first", True)
    if not isinstance(first, bool):
        raise fail(f"{where}: 'first' must be true or false, got {first!r}")
    params = s.get("params", {})
    if not isinstance(params, dict):
        raise fail(f"{where}: 'params' must be an object, got {_kind(params)}")
    if "rows" in params:  # output rows of a spatial (patch) step, kept as the file has them
        _range(params["rows"], "params.rows", where, fail)
    whole = all(r is None for r in ranges.values()) and accumulator is None
    if kernel != "exact":
        from mcusim.nn.approx.step_check import KERNELS, approx_step_problem

        if kernel not in KERNELS:
            raise fail(f"{where}: unknown 'kernel' {kernel!r} (known: {', '.join(KERNELS)})")
        problem = approx_step_problem(graph, op, whole, params)
        if problem:
            raise fail(f"{where}: {problem}")
    return Step(op, s["name"], kernel, ranges["out_channels"], ranges["in_channels"],
                accumulator, first, params)


def _range(v: Any, key: str, where: str, fail) -> tuple[int, int] | None:
    if v is None:
        return None
    if not isinstance(v, list) or len(v) != 2 or not all(_is_int(x) for x in v) or \
            not 0 <= v[0] < v[1]:
        raise fail(f"{where}: '{key}' must be [begin, end) with integers 0 <= begin < end, or "
                   f"null, got {json.dumps(v)}")
    return (v[0], v[1])


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _kind(v: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
             int: "a number", float: "a number", type(None): "null"}
    return names.get(type(v), type(v).__name__)
