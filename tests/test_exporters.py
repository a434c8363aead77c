"""Profile exporters: callgrind (checked with callgrind_annotate), collapsed stacks, Chrome trace.

All tests use one synthetic profile with a known call tree, so every expected number is derived
by hand here rather than from the exporter:

    main (self 1000) -> conv x3 (self 6000, 2000 of it inlined from dsp.h) -> mac x12 (self 8400)
                     -> fact x1 -> fact x4 (recursion; 5 activations of 200 cycles)
                     -> 0x08001000-0x08001020 x2 (no symbol, no file; self 400)
"""

from __future__ import annotations

import dataclasses
import io
import json
import re
import shutil
import subprocess
from collections import defaultdict

import pytest

from mcusim.traces.callgrind import write_callgrind
from mcusim.traces.chrome import chrome_trace, write_chrome_trace
from mcusim.traces.collapsed import write_collapsed
from mcusim.traces.profile import (
    CallEdge,
    CounterSample,
    FunctionProfile,
    LineProfile,
    Profile,
    Slice,
)

CLOCK = 168_000_000
ANON = "0x08001000-0x08001020"
SELF = {"main": 1000, "conv": 6000, "mac": 8400, "fact": 1000, ANON: 400}
TOTAL = sum(SELF.values())  # 16800: main is the root, so this is also main's inclusive cost


def _slices() -> list[Slice]:
    """A timeline consistent with the call tree (cycles): main 0-16800, conv 3x4800 from 100."""
    fn = []
    fn.append(Slice("main", "function", 0, TOTAL, 0))
    for k in range(3):
        start = 100 + k * 4800
        fn.append(Slice("conv", "function", start, start + 4800, 1))
        for m in range(4):
            mac = start + 200 + m * 1100
            fn.append(Slice("mac", "function", mac, mac + 700, 2))
    for level in range(5):  # fact nests 5 deep, each activation 200 self cycles
        fn.append(Slice("fact", "function", 14500 + level * 200, 15500, 1 + level))
    fn.append(Slice(ANON, "function", 15600, 15800, 1))
    fn.append(Slice(ANON, "function", 16000, 16200, 1))
    regions = [Slice("inference", "region", 100, 14500, 0)]
    regions += [Slice(f"layer{k}", "region", 100 + k * 4800, 4900 + k * 4800, 1)
                for k in range(3)]
    return fn + regions


def _counters() -> list[CounterSample]:
    stack = [CounterSample("stack_bytes", c, 64 + (c // 100) % 7 * 16) for c in range(0, 14000,
                                                                                        700)]
    stack.append(CounterSample("stack_bytes", 15300, 512))  # the peak, deep in the recursion
    stack.append(CounterSample("stack_bytes", 15500, 64))
    heap = [CounterSample("heap_bytes", 0, 0), CounterSample("heap_bytes", 5000, 1024)]
    return heap + stack


def make_profile() -> Profile:
    f = FunctionProfile
    functions = [
        f("main", 1, 1000, TOTAL, 800, 12000, 0x0800_0100, "main.c", 10),
        f("conv", 3, 6000, 14400, 4500, 10500, 0x0800_0200, "conv.c", 20),
        f("mac", 12, 8400, 8400, 6000, 6000, 0x0800_0300, "conv.c", 5),
        f("fact", 5, 1000, 1000, 500, 500, 0x0800_0400, "fact.c", 30),
        f(ANON, 2, 400, 400, 200, 200, 0x0800_1000, None, None),
    ]
    edges = [
        CallEdge("main", "conv", 3, 14400, 10500),
        CallEdge("conv", "mac", 12, 8400, 6000),
        CallEdge("main", "fact", 1, 1000, 500),
        CallEdge("fact", "fact", 4, 800, 400),
        CallEdge("main", ANON, 2, 400, 200),
    ]
    lines = [
        # main's lines cover 900 of its 1000 cycles: the rest must land on its first line.
        LineProfile("main.c", 11, "main", 600, 500),
        LineProfile("main.c", 12, "main", 300, 250),
        LineProfile("conv.c", 21, "conv", 4000, 3000),
        LineProfile("dsp.h", 7, "conv", 2000, 1500),  # inlined from a header
        LineProfile("conv.c", 6, "mac", 8400, 6000),
    ]
    stacks = {
        ("main",): 1000,
        ("main", "conv"): 6000,
        ("main", "conv", "mac"): 8400,
        **{("main",) + ("fact",) * depth: 200 for depth in range(1, 6)},
        ("main", ANON): 400,
        ("main", "idle"): 0,
    }
    return Profile(clock_hz=CLOCK, total_cycles=TOTAL, total_instructions=12000,
                   functions=functions, edges=edges, lines=lines, stacks=stacks,
                   slices=_slices(), counters=_counters())


# --- callgrind ---------------------------------------------------------------------------------

ROW = re.compile(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+([\d,]+) \(\s*[\d.]+%\)\s+(.+?)(?: \[.*\])?$")


def annotate(tmp_path, profile: Profile, *options: str) -> dict[str, tuple[int, int]]:
    """callgrind_annotate's table for `profile`: "file:function" -> (cycles, instructions)."""
    tool = shutil.which("callgrind_annotate")
    if tool is None:
        pytest.skip("callgrind_annotate (valgrind) is not installed")
    path = tmp_path / "callgrind.out.1"
    with path.open("w") as out:
        write_callgrind(profile, out, command="mcusim run app.elf", elf="app.elf")
    proc = subprocess.run([tool, "--auto=no", "--threshold=100", *options, str(path)],
                          capture_output=True, text=True, check=True)
    assert "malformed" not in proc.stderr, proc.stderr
    rows = {}
    for line in proc.stdout.splitlines():
        m = ROW.match(line)
        if m:
            rows[m.group(3)] = (int(m.group(1).replace(",", "")), int(m.group(2).replace(",", "")))
    return rows


def test_callgrind_annotate_self_costs(tmp_path):
    rows = annotate(tmp_path, make_profile())
    assert rows["PROGRAM TOTALS"] == (TOTAL, 12000)
    # Self costs; callgrind_annotate lists inlined header code as its own file:function.
    assert rows == {"PROGRAM TOTALS": (TOTAL, 12000), "conv.c:mac": (8400, 6000),
                    "conv.c:conv": (4000, 3000), "dsp.h:conv": (2000, 1500),
                    "main.c:main": (1000, 800), "fact.c:fact": (1000, 500),
                    f"???:{ANON}": (400, 200)}
    top = next(name for name in rows if name != "PROGRAM TOTALS")
    assert top == "conv.c:mac"


def test_callgrind_annotate_inclusive(tmp_path):
    rows = annotate(tmp_path, make_profile(), "--inclusive=yes")
    assert rows["main.c:main"] == (TOTAL, 12000)
    assert rows["conv.c:conv"] == (14400, 10500)  # what main's 3 calls cost, callees included
    assert rows["conv.c:mac"] == (8400, 6000)


def test_callgrind_records():
    out = io.StringIO()
    write_callgrind(make_profile(), out, command="mcusim run app.elf", elf="app.elf")
    text = out.getvalue()
    assert text.startswith("# callgrind format\nversion: 1\ncreator: mcusim\n")
    assert "cmd: mcusim run app.elf\n" in text and "positions: line\n" in text
    assert "events: Cycles Instructions\n" in text
    assert "summary: 16800 12000\n" in text and text.endswith("totals: 16800 12000\n")
    # Each call record: callee file, callee, count and its first line, then the inclusive cost.
    assert "cfl=conv.c\ncfn=conv\ncalls=3 20\n10 14400 10500\n" in text
    assert "cfl=fact.c\ncfn=fact\ncalls=4 30\n30 800 400\n" in text
    assert f"fl=???\nfn={ANON}\n0 400 200\n" in text
    # main's 100 cycles without a line go to main's first line.
    assert "fn=main\n11 600 500\n12 300 250\n10 100 50\n" in text


# --- collapsed stacks --------------------------------------------------------------------------

def parse_collapsed(text: str) -> dict[tuple[str, ...], int]:
    stacks = {}
    for line in text.splitlines():
        stack, count = line.rsplit(" ", 1)
        stacks[tuple(stack.split(";"))] = int(count)
    return stacks


def test_collapsed_sums_to_self_cycles_and_parses_back():
    profile = make_profile()
    out = io.StringIO()
    write_collapsed(profile, out)
    text = out.getvalue()
    lines = text.splitlines()
    assert lines == sorted(lines)
    assert "idle" not in text  # zero counts are omitted
    stacks = parse_collapsed(text)
    assert sum(stacks.values()) == sum(f.self_cycles for f in profile.functions) == TOTAL
    assert stacks == {path: n for path, n in profile.stacks.items() if n}
    assert stacks[("main", "conv", "mac")] == 8400  # outermost first
    assert stacks[("main", "fact", "fact", "fact", "fact", "fact")] == 200


def test_collapsed_cleans_separators():
    profile = Profile(clock_hz=CLOCK, total_cycles=12, total_instructions=6,
                      stacks={("main", "op;x"): 5, ("main", "op:x"): 2, (): 5})
    out = io.StringIO()
    write_collapsed(profile, out)
    # A ';' inside a name would add a frame; the cleaned path merges with its look-alike.
    assert parse_collapsed(out.getvalue()) == {("[unknown]",): 5, ("main", "op:x"): 7}
    with pytest.raises(ValueError):
        write_collapsed(profile, io.StringIO(), event="instructions")


# --- Chrome trace ------------------------------------------------------------------------------

REQUIRED = {"X": {"name", "ph", "ts", "dur", "pid", "tid"}, "C": {"name", "ph", "ts", "pid",
                                                                   "args"}}


def check_trace(trace: dict) -> None:
    """Trace-event rules every trace must keep, whatever was dropped."""
    assert trace["displayTimeUnit"] == "ns"
    events = trace["traceEvents"]
    meta = [e for e in events if e["ph"] == "M"]
    process = [e["args"]["name"] for e in meta if e["name"] == "process_name"]
    assert process == ["mcusim"]
    threads = {e["tid"]: e["args"]["name"] for e in meta if e["name"] == "thread_name"}
    assert threads[1] == "functions" and threads[2] == "regions"
    last: dict[object, float] = defaultdict(float)
    for e in events:
        assert e["ph"] in ("M", "X", "C"), e
        if e["ph"] == "M":
            continue
        assert REQUIRED[e["ph"]] <= set(e), e
        assert isinstance(e["ts"], float)
        # Non-decreasing per thread (slices) and per counter track.
        track = e["tid"] if e["ph"] == "X" else ("C", e["name"])
        assert e["ts"] >= last[track], e
        last[track] = e["ts"]
        if e["ph"] == "X":
            assert e["tid"] in threads
            assert threads[e["tid"]] == {"function": "functions", "region": "regions"}[e["cat"]]


def test_chrome_trace_round_trips_and_times_are_simulated():
    profile = make_profile()
    trace = chrome_trace(profile)
    out = io.StringIO()
    write_chrome_trace(profile, out)
    assert ", " not in out.getvalue()  # compact
    assert json.loads(out.getvalue()) == trace
    check_trace(trace)
    events = trace["traceEvents"]
    slices = {(e["name"], e["args"]["start_cycle"]): e for e in events if e["ph"] == "X"}
    assert len(slices) == len(profile.slices)
    for s in profile.slices:
        e = slices[(s.name, s.start_cycle)]
        assert e["ts"] == pytest.approx(s.start_cycle / CLOCK * 1e6, rel=1e-12)
        assert e["dur"] == pytest.approx((s.end_cycle - s.start_cycle) / CLOCK * 1e6, rel=1e-12)
        assert e["tid"] == (1 if s.kind == "function" else 2)
    main = slices[("main", 0)]
    assert main["dur"] == pytest.approx(100.0)  # 16800 cycles at 168 MHz is 100 us
    counters = [e for e in events if e["ph"] == "C"]
    assert {e["name"] for e in counters} == {"stack_bytes", "heap_bytes"}  # one track each
    assert len(counters) == len(profile.counters)
    peak = next(e for e in counters if e["args"]["value"] == 512)
    assert peak["ts"] == pytest.approx(15300 / CLOCK * 1e6, rel=1e-12)
    assert trace["otherData"]["sampled"] is False and trace["otherData"]["dropped_events"] == 0
    assert trace["otherData"]["clock_hz"] == CLOCK


def _metadata_count(profile: Profile) -> int:
    return sum(e["ph"] == "M" for e in chrome_trace(profile)["traceEvents"])


def test_chrome_trace_cap_keeps_longest_slices():
    profile = dataclasses.replace(make_profile(), counters=[])
    keep = 10  # main, inference, 3 conv, 3 layers, then the two outermost fact activations
    cap = _metadata_count(profile) + keep
    trace = chrome_trace(profile, max_events=cap)
    check_trace(trace)
    events = trace["traceEvents"]
    assert len(events) == cap
    kept = sorted((e["name"], round(e["dur"] * CLOCK / 1e6)) for e in events if e["ph"] == "X")
    assert kept == sorted([("main", 16800), ("inference", 14400), ("conv", 4800),
                           ("conv", 4800), ("conv", 4800), ("layer0", 4800), ("layer1", 4800),
                           ("layer2", 4800), ("fact", 1000), ("fact", 800)])
    other = trace["otherData"]
    assert other["sampled"] is True
    assert other["dropped_events"] == len(profile.slices) - keep
    assert f"{len(profile.slices) - keep} events dropped" in other["note"]


def test_chrome_trace_cap_keeps_callers_of_kept_slices():
    profile = dataclasses.replace(make_profile(), counters=[])
    trace = chrome_trace(profile, max_events=_metadata_count(profile) + 13)  # 3 of 12 macs tie
    kept = [e for e in trace["traceEvents"] if e["ph"] == "X"]
    assert sum(e["name"] == "mac" for e in kept) == 3
    for e in kept:
        if e["name"] == "mac":  # its conv is there to nest in
            assert any(p["name"] == "conv" and p["ts"] <= e["ts"]
                       and e["ts"] + e["dur"] <= p["ts"] + p["dur"] for p in kept)


def test_chrome_trace_cap_thins_counters_but_keeps_peak():
    profile = make_profile()
    cap = _metadata_count(profile) + 30
    trace = chrome_trace(profile, max_events=cap)
    check_trace(trace)
    events = trace["traceEvents"]
    assert len(events) <= cap
    counters = [e for e in events if e["ph"] == "C"]
    assert 0 < len(counters) < len(profile.counters)
    assert {e["name"] for e in counters} == {"stack_bytes", "heap_bytes"}
    assert max(e["args"]["value"] for e in counters if e["name"] == "stack_bytes") == 512
    slices = [e for e in events if e["ph"] == "X"]
    assert slices and max(e["dur"] for e in slices) == pytest.approx(100.0)
    dropped = len(profile.slices) + len(profile.counters) - len(slices) - len(counters)
    assert trace["otherData"]["dropped_events"] == dropped > 0
    assert trace["otherData"]["sampled"] is True


def test_chrome_trace_thinned_counter_keeps_peak_inside_an_interval():
    # 100 samples thinned to 10 intervals of 10: the peak (index 57) opens no interval.
    samples = [CounterSample("stack_bytes", 10 * i, 999 if i == 57 else 64 + i % 5)
               for i in range(100)]
    profile = Profile(clock_hz=CLOCK, total_cycles=1000, total_instructions=500,
                      counters=samples)
    trace = chrome_trace(profile, max_events=_metadata_count(profile) + 10)
    counters = [e for e in trace["traceEvents"] if e["ph"] == "C"]
    assert len(counters) == 10
    assert max(e["args"]["value"] for e in counters) == 999
    assert trace["otherData"]["dropped_events"] == 90


def test_chrome_trace_honours_engine_sampling():
    profile = dataclasses.replace(make_profile(), sampled=True,
                                  sampling_note="timeline kept for the first 1000000 cycles")
    other = chrome_trace(profile)["otherData"]
    assert other["sampled"] is True and other["dropped_events"] == 0
    assert "first 1000000 cycles" in other["note"]
