"""The pure-Python path's batched accounting gives the numbers of its per-block accounting,
bit for bit, wherever the batches happen to end."""

from __future__ import annotations

import random

import numpy as np
import pytest

from mcusim.memory.flash import LineCache
from mcusim.sim.accounting import batched
from tests.conftest import simulate
from tests.test_native import CASES, _fingerprint, _profile_fingerprint


def _blocks(run):
    return sorted((b.address, b.size, b.executions, b.extra_cycles, b.predicted, b.lost_count,
                   b.lost_cycles) for b in run.sim.blocks.values())


def _flash_state(run):
    return [(f.current, f.current_data, list(f.icache._lines), list(f.dcache._lines))
            for f in run.sim.flash]


@pytest.mark.parametrize("board,prog,clock", CASES)
def test_batched_equals_per_block(kernels, board, prog, clock):
    elf = kernels / board / f"{prog}.elf"
    per_block = simulate(elf, board, clock=clock, native=False, batched=False)
    in_batches = simulate(elf, board, clock=clock, native=False)
    assert type(per_block.sim).__name__ == "Simulation"
    assert type(in_batches.sim).__name__ == "BatchedSimulation"
    assert _fingerprint(in_batches) == _fingerprint(per_block)
    assert _blocks(in_batches) == _blocks(per_block)
    assert _flash_state(in_batches) == _flash_state(per_block)


@pytest.mark.parametrize("board,prog", [("mps2-an386", "calltree"),
                                        ("nucleo-f446re", "cnn_chain"),
                                        ("nucleo-f746zg", "branchy_small"),
                                        ("nucleo-g071rb", "recurse")])
def test_batched_profile_equals_per_block(kernels, board, prog):
    elf = kernels / board / f"{prog}.elf"
    per_block = simulate(elf, board, native=False, batched=False, profile=True)
    in_batches = simulate(elf, board, native=False, profile=True)
    assert _profile_fingerprint(in_batches) == _profile_fingerprint(per_block)


@pytest.mark.parametrize("board,prog,batch", [("nucleo-f746zg", "cnn_chain", 7),
                                              ("nucleo-f746zg", "cnn_chain", 1000),
                                              ("nucleo-f446re", "divide", 1),
                                              ("nucleo-f446re", "divide", 2),
                                              ("stm32f4-discovery", "branchy_small", 5)])
def test_batch_boundaries_change_nothing(kernels, monkeypatch, batch, board, prog):
    elf = kernels / board / f"{prog}.elf"
    reference = simulate(elf, board, native=False, profile=True)
    monkeypatch.setattr(batched, "BATCH_BLOCKS", batch)
    small = simulate(elf, board, native=False, profile=True)
    assert _profile_fingerprint(small) == _profile_fingerprint(reference)
    assert _blocks(small) == _blocks(reference)


def test_runs_that_need_every_block_use_the_per_block_path(kernels):
    elf = kernels / "nucleo-f446re" / "branchy_small.elf"
    for options in ({"memory": True}, {"max_instructions": 10**9}, {"max_cycles": 10**9}):
        run = simulate(elf, "nucleo-f446re", native=False, **options)
        assert type(run.sim).__name__ == "Simulation", options


@pytest.mark.parametrize("capacity", [0, 1, 4, 8, 64])
def test_cache_look_up_all_equals_one_at_a_time(capacity):
    rng = random.Random(capacity)
    one_by_one, at_once = LineCache(capacity), LineCache(capacity)
    for batch in range(60):
        # Loops over a few lines (no eviction) and, now and then, wider sweeps that evict.
        width = rng.choice([2, 3, capacity or 1, capacity + 3, 40])
        lines = [1000 + rng.randrange(width) + (batch // 10) * 7
                 for _ in range(rng.randrange(1, 300))]
        expected = []
        for line in lines:
            hit = one_by_one.hit(line)
            if not hit:
                one_by_one.fill(line)
            expected.append(not hit)
        assert at_once.look_up_all(np.array(lines, dtype=np.int64)).tolist() == expected
        assert list(at_once._lines) == list(one_by_one._lines)


def test_verbose_run_says_how_the_python_path_accounted(kernels, monkeypatch, capsys):
    from mcusim.sim.accounting import native_lib as native_path
    from mcusim.sim.cli import main

    monkeypatch.setattr(native_path, "_library", None)  # as MCUSIM_NATIVE=0 does
    monkeypatch.setattr(native_path, "_load_error", "MCUSIM_NATIVE=0")
    elf = str(kernels / "nucleo-f446re" / "fc.elf")
    assert main(["run", elf, "--board", "nucleo-f446re", "-v"]) == 0
    assert "pure-Python path, in batches" in capsys.readouterr().err
    assert main(["run", elf, "--board", "nucleo-f446re", "-v", "--max-cycles", "10000000"]) == 0
    assert "pure-Python path, block by block" in capsys.readouterr().err


@pytest.mark.parametrize("board,prog", [("nucleo-f446re", "branchy_small"),
                                        ("nucleo-f103rb", "conv3x3"),
                                        ("nucleo-g071rb", "fc")])
def test_batches_accounted_by_transitions_equal_per_block(kernels, monkeypatch, board, prog):
    """Long batches without profiling or prediction are accounted by distinct transitions;
    the numbers must still be those of block-by-block accounting."""
    used = []
    original = batched.BatchedSimulation._account_transitions

    def spy(self, rows, prev):
        used.append(original(self, rows, prev))
        return used[-1]

    monkeypatch.setattr(batched.BatchedSimulation, "_account_transitions", spy)
    monkeypatch.setattr(batched, "BATCH_BLOCKS", 50_000)
    elf = kernels / board / f"{prog}.elf"
    per_block = simulate(elf, board, native=False, batched=False)
    in_batches = simulate(elf, board, native=False)
    assert True in used
    assert _fingerprint(in_batches) == _fingerprint(per_block)
    assert _blocks(in_batches) == _blocks(per_block)
    assert _flash_state(in_batches) == _flash_state(per_block)
