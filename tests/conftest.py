"""Shared fixtures: the kernels_c programs (built once per session) and tiny assembly ELFs."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path

import pytest

from mcusim.memory.board import load_board
from mcusim.sim import Firmware, Simulation
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


def simulate(elf: Path, board: str, *, argv: list[str] | None = None,
             fs_root: Path = ROOT, clock: str | None = None, **options: object) -> Run:
    out, err = io.BytesIO(), io.BytesIO()
    sim = Simulation(Firmware.open(elf), load_board(board, clock=clock), stdout=out, stderr=err,
                     fs_root=fs_root, argv=argv, **options)  # type: ignore[arg-type]
    result = sim.run()
    return Run(sim, result, out.getvalue(), err.getvalue())
