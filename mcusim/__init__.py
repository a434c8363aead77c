"""mcusim: a cycle-approximate Cortex-M microcontroller simulator.

    from mcusim import Firmware, RunOptions, load_board, make_simulation
    result = make_simulation(Firmware.open("app.elf"), load_board("nucleo-f446re"),
                             RunOptions()).run()
    print(result.cycles, result.exit_code)

The folders of the repository install as the subpackages (pyproject.toml): mcusim.base,
mcusim.isa, mcusim.memory, mcusim.traces, mcusim.sim (and mcusim.nn).
"""

from __future__ import annotations

from mcusim.base.errors import ExitCode, McusimError
from mcusim.sim import (
    BoardSpec,
    Firmware,
    Limits,
    MemoryOptions,
    ProfileOptions,
    ProgramIO,
    RunOptions,
    RunResult,
    Simulation,
    load_board,
    make_simulation,
)

__all__ = ["BoardSpec", "ExitCode", "Firmware", "Limits", "McusimError", "MemoryOptions",
           "ProfileOptions", "ProgramIO", "RunOptions", "RunResult", "Simulation", "load_board",
           "make_simulation"]
