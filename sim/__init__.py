"""The simulator: the engine and its parts (sim/core, sim/devices), the accounting paths
(sim/accounting), the observers (sim/observe), the result, and the CLI (sim/cli).

    from mcusim.sim import Firmware, RunOptions, load_board, make_simulation
    sim = make_simulation(Firmware.open("app.elf"), load_board("nucleo-f446re"), RunOptions())
    result = sim.run()
"""

from __future__ import annotations

from mcusim.memory.board import BoardSpec, load_board
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.firmware import Firmware
from mcusim.sim.core.options import Limits, MemoryOptions, ProfileOptions, ProgramIO, RunOptions
from mcusim.sim.result import RunResult
from mcusim.sim.simulation import make_simulation

__all__ = ["BoardSpec", "Firmware", "Limits", "MemoryOptions", "ProfileOptions", "ProgramIO",
           "RunOptions", "RunResult", "Simulation", "load_board", "make_simulation"]
