"""Shared fixtures: the kernels_c programs (built once per session) and tiny assembly ELFs."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from mcusim.memory.board import load_board
from mcusim.sim import (
    Firmware,
    Limits,
    MemoryOptions,
    ProfileOptions,
    ProgramIO,
    RunOptions,
    Simulation,
    make_simulation,
)
from mcusim.sim.result import RunResult

ROOT = Path(__file__).resolve().parent.parent
KERNELS = ROOT / "kernels_c"
BUILD = KERNELS / "build"


@pytest.fixture(scope="session", autouse=True)
def _block_cache_per_session(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Runs share a persistent block cache (isa/block_cache.py) for the session only, never
    the user's cache directory, so no test sees blocks a previous session left."""
    import os

    os.environ["MCUSIM_CACHE_DIR"] = str(tmp_path_factory.mktemp("block-cache"))


@pytest.fixture(scope="session")
def unrolled_nn_elf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ELF `mcusim nn --approx` builds for the bundled digits CNN with every MAC layer at
    skip level 0.25: generated, unrolled code (bench/first_exec.py times the same program)."""
    import numpy as np

    from mcusim.nn.approx.study import EvalData, Study, config_of
    from mcusim.nn.run import build_prepared, prepare

    models = ROOT / "nn" / "models"
    data = np.load(models / "digits_test.npz")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MCUSIM_CACHE_DIR", str(tmp_path_factory.mktemp("nn-build")))
        study = Study(models / "digits_cnn_int8.tflite", "nucleo-f446re",
                      EvalData(data["x"][:8], None))
        schedule = study.schedule(config_of({op: 0.25 for op in study.layers}))
        return build_prepared(prepare(study.graph, "nucleo-f446re", schedule)).elf


@pytest.fixture(scope="session")
def kernels() -> Path:
    """kernels_c/build, brought up to date by its Makefile."""
    subprocess.run(["make", "-C", str(KERNELS), "-j2", "--no-print-directory", "-s"],
                   check=True, stdout=subprocess.DEVNULL)
    return BUILD


class Run:
    """A finished simulation: its result, its output, and its memory."""

    def __init__(self, sim: Simulation, result: RunResult, stdout: bytes, stderr: bytes):
        self.sim = sim
        self.result = result
        self.stdout = stdout
        self.stderr = stderr


def simulate(elf: Path, board: str, *, argv: list[str] | None = None, fs_root: Path = ROOT,
             clock: str | None = None, timing: object = None, profile: bool = False,
             memory: bool = False, record_accesses: bool = False, live_analysis: bool = True,
             symbol_regions: list[tuple[str, str]] | None = None,
             max_instructions: int | None = None, max_cycles: int | None = None,
             native: bool | None = None, batched: bool | None = None) -> Run:
    """A run through make_simulation, with the options the tests use as flags."""
    out, err = io.BytesIO(), io.BytesIO()
    options = RunOptions(
        io=ProgramIO(argv=argv, fs_root=fs_root, stdout=out, stderr=err),
        limits=Limits(max_instructions=max_instructions, max_cycles=max_cycles),
        symbol_regions=symbol_regions or (),
        profile=ProfileOptions() if profile else None,
        memory=(MemoryOptions(record_accesses=record_accesses, live_analysis=live_analysis)
                if memory or record_accesses else None),
        native=native, batched=batched)
    sim = make_simulation(Firmware.open(elf), load_board(board, clock=clock), options,
                          timing=timing)  # type: ignore[arg-type]
    result = sim.run()
    return Run(sim, result, out.getvalue(), err.getvalue())
