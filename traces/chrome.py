"""A profile's timeline as a Chrome trace-event JSON object (chrome://tracing, ui.perfetto.dev).

Format reference: "Trace Event Format" (Google doc 1CvAClvFfyA5R-PhYUmn5OOQtYMH4h6I0nSsKchNAySU).
The time axis is SIMULATED time: timestamps are microseconds of target time (cycle / clock_hz),
not host time, so the picture is the firmware's, independent of how fast the simulator ran.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, TextIO

from mcusim.traces.profile import CounterSample, Profile, Slice

PID = 1
PROCESS_NAME = "mcusim"
# Thread id and name per slice kind; other kinds get the next ids, named after the kind.
THREADS = {"function": (1, "functions"), "region": (2, "regions")}


def _threads(slices: list[Slice]) -> dict[str, tuple[int, str]]:
    threads = dict(THREADS)
    for kind in sorted({s.kind for s in slices} - set(threads)):
        threads[kind] = (len(threads) + 1, kind)
    return threads


def _longest(slices: list[Slice], keep: int) -> list[Slice]:
    """The `keep` longest slices. A callee never outlasts its caller and ties go to the shallower
    slice, so every kept slice's enclosing slices are kept too: no orphaned children."""
    ranked = sorted(slices, key=lambda s: (s.start_cycle - s.end_cycle, s.depth, s.start_cycle,
                                           s.name))
    return ranked[:keep]


def _decimate(samples: list[CounterSample], keep: int) -> list[CounterSample]:
    """`keep` of one counter's samples: the highest of each run of equal length. The counters
    are levels (stack, heap bytes) whose peaks are what one looks for, so peaks must survive."""
    if keep >= len(samples):
        return samples
    kept = []
    for i in range(keep):
        bucket = samples[i * len(samples) // keep:(i + 1) * len(samples) // keep]
        kept.append(max(bucket, key=lambda s: s.value))  # max() keeps the first of equals
    return kept


def _counter_quotas(by_name: dict[str, list[CounterSample]], budget: int) -> dict[str, int]:
    """Split `budget` samples between counters in proportion to their sample counts."""
    total = sum(len(v) for v in by_name.values())
    quotas = {name: budget * len(v) // total for name, v in by_name.items()}
    # The rounding remainder goes to the counters with the most samples.
    spare = budget - sum(quotas.values())
    for name in sorted(by_name, key=lambda n: (-len(by_name[n]), n))[:spare]:
        quotas[name] += 1
    return quotas


def chrome_trace(profile: Profile, *, max_events: int = 200_000) -> dict[str, Any]:
    """The Chrome trace-event object for `profile`: function and region slices as complete
    ("X") events on two threads, counters as "C" events, at most `max_events` events."""
    if profile.clock_hz <= 0:
        raise ValueError(f"chrome trace: clock_hz must be positive, not {profile.clock_hz}")
    if max_events < 0:
        raise ValueError(f"chrome trace: max_events must not be negative, not {max_events}")

    def us(cycles: int) -> float:  # simulated microseconds
        return cycles / profile.clock_hz * 1e6

    threads = _threads(profile.slices)
    metadata: list[dict[str, Any]] = [
        {"name": "process_name", "ph": "M", "pid": PID, "tid": 0,
         "args": {"name": PROCESS_NAME}}]
    for tid, thread_name in sorted(threads.values()):
        metadata.append({"name": "thread_name", "ph": "M", "pid": PID, "tid": tid,
                         "args": {"name": thread_name}})
        # Without a sort index viewers may order the threads by name or first event.
        metadata.append({"name": "thread_sort_index", "ph": "M", "pid": PID, "tid": tid,
                         "args": {"sort_index": tid}})

    by_name: dict[str, list[CounterSample]] = defaultdict(list)
    for sample in sorted(profile.counters, key=lambda c: (c.name, c.cycle)):
        by_name[sample.name].append(sample)

    # Cap: metadata always stays. Slices get what the counters leave, and at least half of the
    # budget; the counters are thinned to the rest.
    budget = max(max_events - len(metadata), 0)
    n_slices, n_counters = len(profile.slices), len(profile.counters)
    slices, counters = profile.slices, by_name
    capped = n_slices + n_counters > budget
    if capped:
        slice_budget = min(n_slices, max(budget - n_counters, budget // 2))
        slices = _longest(profile.slices, slice_budget)
        quotas = _counter_quotas(by_name, budget - slice_budget) if n_counters else {}
        counters = {name: _decimate(v, quotas[name]) for name, v in by_name.items()}
    kept_counters = sum(len(v) for v in counters.values())
    dropped = n_slices - len(slices) + n_counters - kept_counters

    events = list(metadata)
    # Per thread in time order, enclosing slice first: viewers nest "X" events by that order.
    for s in sorted(slices, key=lambda s: (threads[s.kind][0], s.start_cycle, s.depth,
                                           -s.end_cycle)):
        events.append({"name": s.name, "cat": s.kind, "ph": "X",
                       "ts": us(s.start_cycle), "dur": us(s.end_cycle - s.start_cycle),
                       "pid": PID, "tid": threads[s.kind][0],
                       "args": {"start_cycle": s.start_cycle,
                                "cycles": s.end_cycle - s.start_cycle, "depth": s.depth}})
    for name, samples in counters.items():
        events.extend({"name": name, "ph": "C", "ts": us(c.cycle), "pid": PID,
                       "args": {"value": c.value}} for c in samples)

    notes = [profile.sampling_note] if profile.sampling_note else []
    if capped and dropped:
        notes.append(f"trace capped at {max_events} events: kept the {len(slices)} longest of "
                     f"{n_slices} slices and {kept_counters} of {n_counters} counter samples "
                     f"(peak of each interval); {dropped} events dropped")
    sampled = profile.sampled or dropped > 0
    # The creator mark comes first: it tells mcusim this is its own file (base/outputs.py).
    other: dict[str, Any] = {"creator": "mcusim", "clock_hz": profile.clock_hz,
                             "total_cycles": profile.total_cycles,
                             "total_instructions": profile.total_instructions,
                             "time_axis": "simulated", "sampled": sampled,
                             "dropped_events": dropped}
    if sampled or notes:
        other["note"] = "; ".join(notes) or "timeline sampled"
    return {"otherData": other, "traceEvents": events, "displayTimeUnit": "ns"}


def write_chrome_trace(profile: Profile, out: TextIO, **kw: Any) -> None:
    """Write `chrome_trace(profile, **kw)` as compact JSON."""
    json.dump(chrome_trace(profile, **kw), out, separators=(",", ":"))
