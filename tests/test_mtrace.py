"""The .mtrace format: round trip, plain-NumPy readability, atomic writes, refusals, slicing."""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mcusim.traces.mtrace import FORMAT, VERSION, Trace, TraceFormatError, TraceWriter

SRAM = 0x2000_0000
META = {
    "board": "nucleo-f446re",
    "elf": "conv3x3.elf",
    "clock_hz": 16_000_000,
    "regions": [{"name": "flash", "base": 0x0800_0000, "size": 512 << 10, "kind": "flash"},
                {"name": "sram1", "base": SRAM, "size": 112 << 10, "kind": "sram"},
                {"name": "sram2", "base": SRAM + (112 << 10), "size": 16 << 10, "kind": "sram"}],
    "markers": [{"name": "conv", "begin": True, "cycle": 10},
                {"name": "conv", "begin": False, "cycle": 90}],
    "recording": {"window": None, "max_accesses": 1000, "truncated": False, "dropped": 0},
    "curves": {"stack": [[0, 0], [5, 64], [50, 128]], "heap": [[0, 0], [20, 1024]]},
    "static_ram_bytes": 4096,
}


def _chunks() -> list[tuple[list[int], ...]]:
    # Three chunks, one as Python lists and two as numpy arrays of assorted integer dtypes.
    return [
        ([0, 1, 1], [SRAM, SRAM + 4, 0x0800_0100], [0x0800_0200] * 3, [4, 4, 2], [1, 1, 0]),
        (np.array([3, 7], np.int64), np.array([SRAM + 0x1C000, SRAM], np.uint32),
         np.array([0x0800_0204, 0x0800_0208], np.uint64), np.array([8, 1], np.int32),
         np.array([0, 0], np.int8)),
        (np.array([2**40], np.uint64), np.array([0xFFFF_FFFC], np.int64), np.array([0xFFFF_FFFF]),
         np.array([4]), np.array([1])),
    ]


def _write(path: Path, meta: dict | None = None) -> None:
    with TraceWriter(path, META if meta is None else meta) as w:
        for chunk in _chunks():
            w.append(*chunk)
        assert len(w) == 6
        assert not path.exists()  # nothing at the destination before close


def test_round_trip(tmp_path: Path):
    path = tmp_path / "run.mtrace"
    _write(path)
    for mmap in (True, False):
        t = Trace.open(path, mmap=mmap)
        assert len(t) == 6
        assert t.cycle.dtype == np.uint64 and t.address.dtype == np.uint32
        assert t.pc.dtype == np.uint32 and t.size.dtype == np.uint8 and t.kind.dtype == np.uint8
        assert t.cycle.tolist() == [0, 1, 1, 3, 7, 2**40]
        assert t.address.tolist() == [SRAM, SRAM + 4, 0x0800_0100, SRAM + 0x1C000, SRAM,
                                      0xFFFF_FFFC]
        assert t.pc.tolist() == [0x0800_0200] * 3 + [0x0800_0204, 0x0800_0208, 0xFFFF_FFFF]
        assert t.size.tolist() == [4, 4, 2, 8, 1, 4]
        assert t.kind.tolist() == [1, 1, 0, 0, 0, 1]
        assert t.meta["format"] == FORMAT and t.meta["version"] == VERSION == 1
        for key, value in META.items():
            assert t.meta[key] == value
        assert t.start_cycle == 0 and t.end_cycle == 2**40 + 1


def test_file_is_a_plain_uncompressed_npz(tmp_path: Path):
    path = tmp_path / "run.mtrace"
    _write(path)
    with zipfile.ZipFile(path) as zf:
        assert sorted(zf.namelist()) == sorted(
            f"{n}.npy" for n in ("cycle", "address", "pc", "size", "kind", "meta"))
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
    with np.load(path, allow_pickle=False) as npz:
        assert npz["meta"].shape == () and npz["meta"].dtype.kind == "U"
        meta = json.loads(str(npz["meta"]))
        assert meta["format"] == "mcusim.mtrace" and meta["static_ram_bytes"] == 4096
        assert npz["size"].tolist() == [4, 4, 2, 8, 1, 4]
        assert npz["cycle"].dtype == np.uint64


def test_missing_meta_keys_get_defaults_and_meta_can_change_until_close(tmp_path: Path):
    path = tmp_path / "run.mtrace"
    w = TraceWriter(path, {"board": "b", "recording": {"max_accesses": 5}})
    w.append([1], [SRAM], [0], [4], [1])
    w.meta["curves"]["stack"] = [[np.uint64(1), np.int64(32)]]  # numpy scalars are fine
    w.meta["recording"]["truncated"] = True
    w.close()
    w.close()  # closing twice is harmless
    meta = Trace.open(path).meta
    assert meta["recording"] == {"window": None, "max_accesses": 5, "truncated": True,
                                 "dropped": 0}
    assert meta["curves"] == {"stack": [[1, 32]], "heap": []}
    assert meta["regions"] == [] and meta["markers"] == [] and meta["static_ram_bytes"] == 0
    assert meta["clock_hz"] is None and meta["board"] == "b"


def test_empty_trace_round_trips(tmp_path: Path):
    path = tmp_path / "empty.mtrace"
    TraceWriter(path, META).close()
    t = Trace.open(path)
    assert len(t) == 0 and t.cycle.dtype == np.uint64
    assert t.end_cycle == 90  # the last marker; no accesses


def test_a_trace_gets_the_permissions_of_any_new_file(tmp_path: Path):
    old = os.umask(0o022)
    try:
        TraceWriter(tmp_path / "run.mtrace", META).close()
        (tmp_path / "other").write_bytes(b"")
    finally:
        os.umask(old)
    mode = (tmp_path / "run.mtrace").stat().st_mode & 0o777
    assert mode == (tmp_path / "other").stat().st_mode & 0o777 == 0o644


def test_exception_inside_writer_leaves_no_file(tmp_path: Path):
    path = tmp_path / "run.mtrace"
    with pytest.raises(RuntimeError), TraceWriter(path, META) as w:
        w.append([1], [SRAM], [0], [4], [1])
        raise RuntimeError("simulation failed")
    assert os.listdir(tmp_path) == []
    with pytest.raises(ValueError, match="closed"):
        w.append([2], [SRAM], [0], [4], [1])


def test_close_replaces_an_older_file_atomically(tmp_path: Path):
    path = tmp_path / "run.mtrace"
    _write(path)
    with TraceWriter(path, META) as w:
        w.append([5], [SRAM], [0], [1], [0])
        assert len(Trace.open(path)) == 6  # the old file stays whole until the rename
    assert len(Trace.open(path)) == 1
    assert os.listdir(tmp_path) == ["run.mtrace"]


def test_many_chunks_append_in_order(tmp_path: Path):
    path = tmp_path / "big.mtrace"
    rng = np.random.default_rng(1)
    parts = []
    with TraceWriter(path, META) as w:
        base = 0
        for _ in range(50):
            n = int(rng.integers(0, 5000))
            c = base + np.sort(rng.integers(0, 1000, n))
            a = rng.integers(0, 2**32, n)
            w.append(c, a, a, np.full(n, 2), rng.integers(0, 2, n))
            parts.append((c, a))
            base += 1000
    t = Trace.open(path)
    assert np.array_equal(t.cycle, np.concatenate([c for c, _ in parts]))
    assert np.array_equal(t.address, np.concatenate([a for _, a in parts]))


@pytest.mark.parametrize(("columns", "message"), [
    (([1, 2], [SRAM], [0], [4], [1]), "differ in length"),
    (([1], [SRAM], [0], [3], [1]), "size"),
    (([1], [SRAM], [0], [0], [1]), "size"),
    (([1], [SRAM], [0], [16], [1]), "size"),
    (([1], [SRAM], [0], [4], [2]), "kind"),
    (([2, 1], [SRAM, SRAM], [0, 0], [4, 4], [1, 1]), "time order"),
    (([1], [-4], [0], [4], [1]), "negative"),
    (([1], [2**32], [0], [4], [1]), "does not fit"),
    (([1], [SRAM], [0], [4], [256]), "does not fit"),
    (([[1]], [[SRAM]], [[0]], [[4]], [[1]]), "1-D"),
])
def test_append_refuses_bad_columns(tmp_path: Path, columns: tuple, message: str):
    with TraceWriter(tmp_path / "t.mtrace", META) as w, pytest.raises(ValueError, match=message):
        w.append(*columns)


def test_append_refuses_time_going_back_across_chunks(tmp_path: Path):
    with TraceWriter(tmp_path / "t.mtrace", META) as w:
        w.append([5, 9], [SRAM, SRAM], [0, 0], [4, 4], [1, 1])
        w.append([9], [SRAM], [0], [4], [0])  # same cycle is fine
        with pytest.raises(ValueError, match="time order"):
            w.append([8], [SRAM], [0], [4], [0])
        assert len(w) == 3


def test_append_refuses_floats(tmp_path: Path):
    with TraceWriter(tmp_path / "t.mtrace", META) as w, pytest.raises(TypeError):
        w.append([1.5], [SRAM], [0], [4], [1])


def test_non_json_meta_is_refused_at_once(tmp_path: Path):
    with pytest.raises(TypeError, match="not JSON"):
        TraceWriter(tmp_path / "t.mtrace", {"board": object()})


def test_open_refuses_missing_foreign_and_future_files(tmp_path: Path):
    with pytest.raises(TraceFormatError, match="no such trace file"):
        Trace.open(tmp_path / "nothing.mtrace")
    assert issubclass(TraceFormatError, ValueError)

    text = tmp_path / "notes.txt"
    text.write_text("hello")
    with pytest.raises(TraceFormatError, match="not an mcusim .mtrace"):
        Trace.open(text)

    other = tmp_path / "other.npz"
    np.savez(other, x=np.arange(3))
    with pytest.raises(TraceFormatError, match="not an mcusim .mtrace"):
        Trace.open(other)

    def npz_with_meta(name: str, meta: dict) -> Path:
        p = tmp_path / name
        cols = {k: np.zeros(1, d) for k, d in (("cycle", np.uint64), ("address", np.uint32),
                                                ("pc", np.uint32), ("size", np.uint8),
                                                ("kind", np.uint8))}
        cols["size"][:] = 4
        with open(p, "wb") as f:
            np.savez(f, meta=np.array(json.dumps(meta)), **cols)
        return p

    assert len(Trace.open(npz_with_meta("ok.mtrace", {"format": FORMAT, "version": 1}))) == 1
    with pytest.raises(TraceFormatError, match="version 2 is not supported"):
        Trace.open(npz_with_meta("future.mtrace", {"format": FORMAT, "version": 2}))
    with pytest.raises(TraceFormatError, match="not an mcusim .mtrace"):
        Trace.open(npz_with_meta("foreign.mtrace", {"format": "other", "version": 1}))


def test_open_refuses_inconsistent_arrays(tmp_path: Path):
    meta = np.array(json.dumps({"format": FORMAT, "version": 1}))
    good = {"cycle": np.array([1, 2], np.uint64), "address": np.zeros(2, np.uint32),
            "pc": np.zeros(2, np.uint32), "size": np.full(2, 4, np.uint8),
            "kind": np.zeros(2, np.uint8)}
    cases = {"dtype": {**good, "address": np.zeros(2, np.int64)},
             "length": {**good, "pc": np.zeros(3, np.uint32)},
             "time order": {**good, "cycle": np.array([2, 1], np.uint64)},
             "size": {**good, "size": np.array([4, 5], np.uint8)}}
    for name, cols in cases.items():
        p = tmp_path / f"{name}.mtrace"
        with open(p, "wb") as f:
            np.savez(f, meta=meta, **cols)
        with pytest.raises(TraceFormatError):
            Trace.open(p)


def test_window_is_half_open_and_clips_curves(tmp_path: Path):
    path = tmp_path / "run.mtrace"
    _write(path)
    t = Trace.open(path)
    w = t.window(1, 7)
    assert w.cycle.tolist() == [1, 1, 3]
    assert w.address.tolist() == [SRAM + 4, 0x0800_0100, SRAM + 0x1C000]
    assert w.start_cycle == 1 and w.end_cycle == 7
    assert w.meta["curves"]["stack"] == [[1, 0], [5, 64]]
    assert w.meta["curves"]["heap"] == [[1, 0]]
    assert t.meta["curves"]["stack"] == META["curves"]["stack"]  # the original is untouched
    assert len(t.window(8, 2**40)) == 0 and len(t.window(0, 2**41)) == 6
    with pytest.raises(ValueError):
        t.window(5, 4)


def test_in_region_selects_by_address(tmp_path: Path):
    path = tmp_path / "run.mtrace"
    _write(path)
    t = Trace.open(path)
    s1 = t.in_region("sram1")
    assert s1.address.tolist() == [SRAM, SRAM + 4, SRAM]
    assert s1.cycle.tolist() == [0, 1, 7]
    s2 = t.in_region("sram2")
    assert s2.address.tolist() == [SRAM + 0x1C000] and s2.pc.tolist() == [0x0800_0204]
    assert t.in_region("flash").address.tolist() == [0x0800_0100]
    assert len(t.in_region("sram1").in_region("sram1")) == 3
    with pytest.raises(KeyError, match="sram1, sram2"):
        t.in_region("dtcm")


def test_from_arrays_checks_like_the_writer():
    t = Trace.from_arrays([0, 1], [SRAM, SRAM], None, [4, 4], [1, 0], {"clock_hz": 1000})
    assert t.pc.tolist() == [0, 0] and t.meta["clock_hz"] == 1000 and t.meta["version"] == 1
    with pytest.raises(ValueError, match="size"):
        Trace.from_arrays([0], [SRAM], None, [5], [1])


@pytest.mark.parametrize("window, span", [((100, 10**9), (100, 500)), ((10**8, 10**9), (500, 500)),
                                          ((100, 300), (100, 300))])
def test_a_recording_window_past_the_run_covers_the_run_only(window, span):
    """`trace --window` reaching past the program's end: the view gave a time span of seconds
    for a run of microseconds, and its peak "at" the window's start, after the run."""
    empty = np.zeros(0, np.uint64)
    meta = {"recording": {"window": list(window)}, "total_cycles": 500}
    t = Trace(empty, empty.astype(np.uint32), empty.astype(np.uint32), empty.astype(np.uint8),
              empty.astype(np.uint8), meta)
    assert (t.start_cycle, t.end_cycle) == span
