"""The native hot path gives the same numbers as the pure-Python path, bit for bit.

(The whole suite also runs once with MCUSIM_NATIVE=0, see .ci/run.)"""

from __future__ import annotations

import pytest

from mcusim.sim.accounting import native_lib as native_path
from tests.conftest import simulate

CASES = [
    ("nucleo-f446re", "conv3x3", None), ("nucleo-f446re", "branchy_small", None),
    ("stm32f4-discovery", "cnn_chain", None), ("nucleo-f746zg", "cnn_chain", None),
    ("nucleo-f103rb", "divide", None), ("nucleo-g071rb", "fc", None),
    ("nucleo-l4r5zi", "dwconv3x3", None), ("nrf52840-dk", "maxpool", None),
    ("nucleo-f446re", "ubench", "16MHz"), ("nucleo-f746zg", "ubench", "16MHz"),
    ("mps2-an386", "hello", None), ("nucleo-u575zi", "cnn_chain", None),
    ("nucleo-u575zi", "ubench", "16MHz"),
]


def _fingerprint(run):
    r = run.result
    return (r.exit_code, r.stop, r.instructions, r.cycles, run.stdout,
            [(f.name, f.self_cycles, f.instructions) for f in r.functions],
            [(x.name, x.count, x.cycles, x.instructions) for x in r.regions], r.flash)


@pytest.fixture(scope="module", autouse=True)
def _needs_native():
    if native_path.load_library() is None:
        pytest.fail(f"the native hot path is not built: {native_path.load_error()}")


@pytest.mark.parametrize("board,prog,clock", CASES)
def test_same_numbers_on_both_paths(kernels, board, prog, clock):
    python = simulate(kernels / board / f"{prog}.elf", board, clock=clock, native=False)
    native = simulate(kernels / board / f"{prog}.elf", board, clock=clock, native=True)
    assert type(native.sim).__name__ == "NativeSimulation"
    assert type(python.sim).__name__ == "BatchedSimulation"
    assert _fingerprint(native) == _fingerprint(python)


@pytest.mark.parametrize("limit", [{"max_instructions": 5000}, {"max_cycles": 7777}])
def test_limits_stop_both_paths_at_the_same_block(kernels, limit):
    elf = kernels / "nucleo-f446re" / "branchy_small.elf"
    python = simulate(elf, "nucleo-f446re", native=False, **limit)
    native = simulate(elf, "nucleo-f446re", native=True, **limit)
    assert python.result.stop == native.result.stop == "limit"
    assert _fingerprint(native) == _fingerprint(python)
    assert python.result.fault.message == native.result.fault.message


def _profile_fingerprint(run):
    r, p = run.result, run.result.profile
    return (r.cycles, r.instructions,
            [(f.name, f.calls, f.self_cycles, f.inclusive_cycles, f.instructions,
              f.inclusive_instructions) for f in r.functions],
            [(e.caller, e.callee, e.calls, e.inclusive_cycles, e.inclusive_instructions)
             for e in p.edges],
            sorted(p.stacks.items()),
            [(s.name, s.kind, s.start_cycle, s.end_cycle, s.depth) for s in p.slices],
            p.sampled, p.sampling_note, [(b.address, b.executions, b.cycles)
                                         for b in p.hot_blocks])


@pytest.mark.parametrize("board,prog", [("mps2-an386", "calltree"),
                                        ("nucleo-f446re", "cnn_chain"),
                                        ("nucleo-f746zg", "branchy_small"),
                                        ("nucleo-g071rb", "recurse")])
def test_same_profile_on_both_paths(kernels, board, prog):
    elf = kernels / board / f"{prog}.elf"
    python = simulate(elf, board, native=False, profile=True)
    native = simulate(elf, board, native=True, profile=True)
    assert type(native.sim).__name__ == "NativeSimulation"
    assert _profile_fingerprint(native) == _profile_fingerprint(python)


def test_timeline_cap_keeps_the_same_slices(kernels, monkeypatch):
    from mcusim.sim.observe import profiler

    original = profiler.CallTracker.__init__
    monkeypatch.setattr(profiler.CallTracker, "__init__",
                        lambda self, root, max_slices=50: original(self, root, max_slices))
    elf = kernels / "nucleo-f446re" / "branchy_small.elf"
    python = simulate(elf, "nucleo-f446re", native=False, profile=True)
    native = simulate(elf, "nucleo-f446re", native=True, profile=True)
    assert python.result.profile.sampled and len(python.result.profile.slices) >= 50
    assert _profile_fingerprint(native) == _profile_fingerprint(python)


@pytest.mark.parametrize("board,prog", [("nucleo-f446re", "cnn_chain"),
                                        ("nucleo-f446re", "heap_pattern"),
                                        ("nucleo-g071rb", "recurse"),
                                        ("nucleo-f746zg", "calltree")])
def test_same_memory_figures_and_trace_on_both_paths(kernels, board, prog):
    import numpy as np

    elf = kernels / board / f"{prog}.elf"
    runs = [simulate(elf, board, native=n, memory=True, record_accesses=True, profile=True)
            for n in (False, True)]
    (python, native) = runs
    assert type(native.sim).__name__ == "NativeSimulation"
    assert python.result.memory == native.result.memory
    assert python.result.warnings == native.result.warnings
    logs = [r.sim.memory_tracker.log for r in runs]
    for column in ("cycle", "address", "pc", "size", "kind"):
        a, b = (np.asarray(getattr(log, column)) for log in logs)
        assert a.tolist() == b.tolist(), column
    assert [t.stack_curve.points for t in (r.sim.memory_tracker for r in runs)][0] == \
        native.sim.memory_tracker.stack_curve.points
    assert _profile_fingerprint(native) == _profile_fingerprint(python)
    assert python.result.profile.counters == native.result.profile.counters
