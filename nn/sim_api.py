"""The one place the model path reaches into the simulator: its errors, boards, firmware
loading and how a Simulation is built (so a change of the simulator's API changes only this
file)."""

from __future__ import annotations

from pathlib import Path
from typing import BinaryIO

from mcusim.base.errors import (
    ExitCode,
    InputError,
    McusimError,
    MissingInputError,
    OutputError,
    Terminated,
    UsageError,
)
from mcusim.base.units import format_frequency
from mcusim.memory.board import BoardSpec, load_board
from mcusim.sim import Firmware, MemoryOptions, ProgramIO, RunOptions, Simulation, make_simulation
from mcusim.sim.core.markers import REGION_END
from mcusim.sim.result import RunResult

__all__ = ["REGION_END", "BoardSpec", "ExitCode", "Firmware", "InputError", "McusimError",
           "MissingInputError", "OutputError", "RunResult", "Simulation", "Terminated",
           "UsageError",
           "format_frequency", "load_board", "new_simulation"]


def new_simulation(firmware: Firmware, board: BoardSpec, *, fs_root: Path, stdout: BinaryIO,
                   stderr: BinaryIO, record_accesses: bool) -> Simulation:
    """A run with memory accounting (static, stack, heap; live bytes if accesses are
    recorded), on the fastest accounting path available."""
    options = RunOptions(io=ProgramIO(fs_root=fs_root, stdout=stdout, stderr=stderr),
                         memory=MemoryOptions(record_accesses=record_accesses))
    return make_simulation(firmware, board, options)
