"""The buffers a schedule with channel slices needs, derived from its steps alone.

What each step reads and writes follows from its operator and channel ranges. A tensor is held
as slices when its producer runs in channel ranges and every read of each range comes after
that range is produced and before the next one is: then the whole tensor never exists, and each
range gets its own slice buffer "s<t>.<m>" alive from its producing step to its last reader.
Every other tensor is whole ("t<t>", from its first to its last step; graph inputs from the
start, outputs to the end). An accumulator "acc<op>" is int32 over the whole output of its
operator, from its first partial sum to the requantisation step, which writes the int8 output
into the accumulator's own first bytes (element i at byte i, read from bytes 4i..4i+3 first),
so the output's buffer is the accumulator's, shrunk to a quarter. An ADD writes into a whole
operand no later step reads. User-written schedules are checked here: every operator's channels
produced exactly once, every read after what it reads was produced.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mcusim.nn.graph import Graph
from mcusim.nn.pex.chains import is_channelwise
from mcusim.nn.pex.memory import ACC_BYTES, slice_bytes, storage_roots
from mcusim.nn.pex.patches import ROWS, input_rows
from mcusim.nn.planner import align, scratch_bytes
from mcusim.nn.schedule import Range, Schedule, Step
from mcusim.nn.sim_api import InputError

REQUANTIZE = "requantize"  # Step.params key of an accumulator's requantisation step

Segment = tuple[int, int, int]  # (first step, last step, bytes): a buffer's size over time




@dataclass
class Access:
    tensor: int  # storage root
    channels: Range | None  # None: every channel
    rows: Range | None = None  # None: every row (patch steps read and write row bands)


@dataclass
class StepAccess:
    reads: list[Access] = field(default_factory=list)
    writes: list[Access] = field(default_factory=list)
    accumulator: str | None = None


def is_requantize(step: Step) -> bool:
    return bool(step.params.get(REQUANTIZE))


def step_access(graph: Graph, step: Step, roots: dict[int, int]) -> StepAccess:
    op = graph.operators[step.op]
    acts = [t for t in op.inputs if t is not None and not graph.tensors[t].is_const]
    out = roots.get(op.outputs[0], op.outputs[0])
    a = StepAccess(accumulator=step.accumulator)
    if op.type == "RESHAPE":
        a.reads = [Access(roots.get(acts[0], acts[0]), None)]
        return a
    if is_requantize(step):
        a.writes = [Access(out, None)]
        return a
    if step.accumulator is not None:
        a.reads = [Access(roots.get(acts[0], acts[0]), step.in_channels)]
        return a
    rows = step.params.get(ROWS)
    if rows is not None:  # a band of output rows from the input rows it needs (halo included)
        a.reads = [Access(roots.get(acts[0], acts[0]), None, input_rows(graph, op, tuple(rows)))]
        a.writes = [Access(out, None, tuple(rows))]
        return a
    r = step.out_channels
    reads_slice = r is not None and is_channelwise(graph, op)
    a.reads = [Access(roots.get(t, t), r if reads_slice else None) for t in acts]
    a.writes = [Access(out, r)]
    return a


def _covers(ranges: list[Range], n: int) -> bool:
    pos = 0
    for lo, hi in sorted(ranges):
        if lo != pos or hi <= lo:
            return False
        pos = hi
    return pos == n


def validate(graph: Graph, schedule: Schedule) -> None:
    """Raise InputError unless every operator's output (or accumulator) is produced exactly
    once over all its channels and no step reads channels not yet produced."""
    roots = storage_roots(graph)
    produced: dict[int, list[Range]] = {roots.get(t, t): [(0, graph.tensors[t].shape[-1])]
                                        for t in graph.inputs}
    sums: dict[str, list[Range]] = {}
    produced_rows: dict[int, list[Range]] = {}
    done: set[int] = set()
    names = [s.name for s in schedule]
    if len(set(names)) != len(names):
        dup = next(n for n in names if names.count(n) > 1)
        raise InputError(f"schedule {schedule.kind!r}: step name {dup!r} is used twice (each "
                         "step is a region of its own)")
    for i, step in enumerate(schedule):
        where = f"schedule step {i} ({step.name})"
        if not 0 <= step.op < len(graph.operators):
            raise InputError(f"{where}: operator {step.op} does not exist in {graph.name}")
        op = graph.operators[step.op]
        if step.op in done and ROWS not in step.params:  # row bands may recompute rows
            raise InputError(f"{where}: operator {step.op} {op.type} already complete")
        acc = step_access(graph, step, roots)
        if acc.writes and acc.writes[0].rows is not None:
            _check_rows(graph, where, acc, produced, produced_rows, done, step.op)
            continue
        for r in acc.reads:
            if r.tensor in produced_rows and r.tensor not in produced:
                raise InputError(f"{where}: reads all of tensor {r.tensor}, which is only "
                                 "produced in row bands")
            n = _channels_of(graph, r.tensor)
            have = produced.get(r.tensor, [])
            want = r.channels or (0, n)
            if not any(lo <= want[0] and want[1] <= hi for lo, hi in _merged(have)):
                raise InputError(f"{where}: reads channels {list(want)} of tensor {r.tensor} "
                                 "before they are produced")
        if step.accumulator is not None and not is_requantize(step):
            parts = sums.setdefault(step.accumulator, [])
            if step.first != (not parts):
                raise InputError(f"{where}: `first` must be set on the first partial sum of "
                                 f"{step.accumulator} only")
            parts.append(step.in_channels or (0, _channels_of(graph, acc.reads[0].tensor)))
        if is_requantize(step):
            parts = sums.get(step.accumulator or "", [])
            cin = graph.tensors[op.inputs[0]].shape[-1]
            if not _covers(parts, cin):
                raise InputError(f"{where}: requantises {step.accumulator} before every input "
                                 f"channel of operator {step.op} was added exactly once")
        for w in acc.writes:
            produced.setdefault(w.tensor, []).append(w.channels or (0, _channels_of(graph,
                                                                                  w.tensor)))
            if _covers(produced[w.tensor], _channels_of(graph, w.tensor)):
                done.add(step.op)
        if op.type == "RESHAPE":
            done.add(step.op)
            out = roots.get(op.outputs[0], op.outputs[0])
            produced.setdefault(out, produced.get(acc.reads[0].tensor, []))
    # A RESHAPE computes nothing (its output is its input's buffer): inside a chain it has
    # no step of its own.
    missing = [op.index for op in graph if op.index not in done and op.type != "RESHAPE"]
    if missing:
        raise InputError(f"schedule {schedule.kind!r} does not complete operator(s) {missing} "
                         f"of {graph.name} (every output channel must be produced exactly once)")


def _check_rows(graph: Graph, where: str, acc: StepAccess, produced: dict[int, list[Range]],
                produced_rows: dict[int, list[Range]], done: set[int], op: int) -> None:
    """A patch step reads rows its input already has (a graph input has them all) and adds
    its band; the operator is complete when its bands cover every output row."""
    r, w = acc.reads[0], acc.writes[0]
    have = produced_rows.get(r.tensor)
    if have is not None:
        if not any(lo <= r.rows[0] and r.rows[1] <= hi for lo, hi in _merged(have)):
            raise InputError(f"{where}: reads rows {list(r.rows)} of tensor {r.tensor} before "
                             "they are produced")
    elif r.tensor not in produced:
        raise InputError(f"{where}: reads rows of tensor {r.tensor}, which is not produced in "
                         "row bands before it")
    rows = produced_rows.setdefault(w.tensor, [])
    rows.append(w.rows)
    merged = _merged(rows)
    if merged == [(0, graph.tensors[w.tensor].shape[1])]:
        done.add(op)
        produced[w.tensor] = [(0, _channels_of(graph, w.tensor))]


def _channels_of(graph: Graph, tensor: int) -> int:
    return graph.tensors[tensor].shape[-1]


def _merged(ranges: list[Range]) -> list[Range]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1]:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return [(lo, hi) for lo, hi in out]


@dataclass
class BufferSet:
    """Every buffer of a schedule with its size over time; what tensor lives where."""

    segments: dict[str, list[Segment]]
    slices: dict[int, list[tuple[Range, str]]]  # sliced root -> (channels, buffer) per slice
    slice_of_step: dict[tuple[int, int], str]  # (step, root) -> slice buffer the step uses
    aliases: dict[int, int]  # tensor -> tensor whose buffer it uses
    accumulators: dict[str, str]  # accumulator name -> buffer it lives in
    slice_rows: dict[str, Range] = field(default_factory=dict)  # row-band buffer -> its rows


def derive(graph: Graph, schedule: Schedule) -> BufferSet:
    validate(graph, schedule)
    roots = storage_roots(graph)
    accesses = [step_access(graph, s, roots) for s in schedule]
    end = len(schedule) - 1
    writers: dict[int, list[int]] = {}
    readers: dict[int, list[int]] = {}
    for i, a in enumerate(accesses):
        for w in a.writes:
            writers.setdefault(w.tensor, []).append(i)
        for r in a.reads:
            readers.setdefault(r.tensor, []).append(i)
    io = {roots.get(t, t) for t in (*graph.inputs, *graph.outputs)}
    slices: dict[int, list[tuple[Range, str]]] = {}
    slice_of_step: dict[tuple[int, int], str] = {}
    slice_rows: dict[str, Range] = {}
    segments: dict[str, list[Segment]] = {}
    for t, ws in writers.items():
        plan = _slice_plan(t, ws, readers.get(t, []), accesses) if t not in io else None
        if plan is None:
            continue
        slices[t] = []
        for m, (rng, rows, producer, users) in enumerate(plan):
            name = f"s{t}.{m}"
            if rows is not None:  # a band of rows, every channel
                shape = graph.tensors[t].shape
                rng = (0, shape[-1])
                slice_rows[name] = rows
                size = align((rows[1] - rows[0]) * shape[2] * shape[3])
            else:
                size = slice_bytes(graph, t, rng[1] - rng[0])
            slices[t].append((rng, name))
            segments[name] = [(producer, max([producer, *users]), size)]
            for i in (producer, *users):
                slice_of_step[(i, t)] = name
    # Whole tensors: first to last touch.
    span: dict[int, list[int]] = {}
    for t in graph.inputs:
        span[roots.get(t, t)] = [0, 0]
    for i, a in enumerate(accesses):
        for x in (*a.reads, *a.writes):
            if x.tensor in slices:
                continue
            s = span.setdefault(x.tensor, [i, i])
            s[1] = i
    for t in graph.outputs:
        span[roots.get(t, t)][1] = end
    # In-place ADDs: the output takes over an operand nobody reads afterwards.
    aliases = dict(roots)
    for step in schedule:
        op = graph.operators[step.op]
        out = roots.get(op.outputs[0], op.outputs[0])
        if op.type != "ADD" or out in slices or out in io or aliases.get(out, out) != out:
            continue
        first_add = min(j for j, s in enumerate(schedule) if s.op == step.op)
        for t in op.inputs:
            r = roots.get(t, t)
            if r in slices or r in io or r == out:
                continue
            others = [j for j in readers.get(r, []) if schedule.steps[j].op != step.op]
            if all(j < first_add for j in others) and aliases.get(r, r) == r:
                span[r][1] = max(span[r][1], span[out][1])
                del span[out]
                aliases[out] = r
                for tensor, root in list(aliases.items()):
                    if root == out:
                        aliases[tensor] = r
                break
    # Accumulators: int32 until the requantisation, then the int8 output in the same bytes.
    accumulators: dict[str, str] = {}
    acc_span: dict[str, list[int]] = {}
    for i, a in enumerate(accesses):
        if a.accumulator is not None:
            s = acc_span.setdefault(a.accumulator, [i, i])
            s[1] = i
    acc_out: dict[str, int] = {}
    for step in schedule:
        if step.accumulator is not None:
            acc_out[step.accumulator] = roots.get(graph.operators[step.op].outputs[0],
                                                  graph.operators[step.op].outputs[0])
    for t, (f, last) in span.items():
        segments[f"t{t}"] = [(f, last, align(graph.tensors[t].nbytes))]
    for name, (f, req) in acc_span.items():
        out = acc_out[name]
        root = aliases.get(out, out)
        whole = segments.pop(f"t{root}")
        size = align(graph.tensors[out].nbytes)
        after = [(req + 1, whole[0][1], whole[0][2])] if whole[0][1] > req else []
        segments[f"t{root}"] = [(f, req, ACC_BYTES * size), *after]
        accumulators[name] = f"t{root}"
    for i, step in enumerate(schedule):
        size = step_scratch(graph, step)
        if size:
            segments[f"scratch{i}"] = [(i, i, align(size))]
    return BufferSet(segments, slices, slice_of_step,
                     {t: r for t, r in aliases.items() if t != r}, accumulators, slice_rows)


def step_scratch(graph: Graph, step: Step) -> int:
    """The layer planner's kernel-scratch formula for any step (sliced steps included: a
    sliced convolution needs what the whole one does, an accumulation step two int16
    columns of its slice); the requantisation needs none."""
    if is_requantize(step):
        return 0
    return scratch_bytes(graph, step)


def _slice_plan(t: int, writers: list[int], readers: list[int], accesses: list[StepAccess]
                ) -> list[tuple[Range, Range | None, int, list[int]]] | None:
    """(channels, rows, producing step, reading steps) per slice if `t` can live as slices:
    a reader reads the channels the latest writer wrote (or, for row bands, rows within
    the latest band)."""
    regions = []
    for w in writers:
        x = next(x for x in accesses[w].writes if x.tensor == t)
        if x.channels is None and x.rows is None:
            return None
        regions.append((x.channels, x.rows))
    if len(writers) < 2:
        return None
    plan = [(ch, rows, w, []) for (ch, rows), w in zip(regions, writers, strict=True)]
    for r in readers:
        x = next(x for x in accesses[r].reads if x.tensor == t)
        m = max((k for k, w in enumerate(writers) if w < r), default=None)
        if m is None:
            return None
        ch, rows = regions[m]
        if rows is not None:
            if x.rows is None or not (rows[0] <= x.rows[0] and x.rows[1] <= rows[1]):
                return None
        elif x.channels != ch:
            return None
        plan[m][3].append(r)
    return plan
