"""The simulator: engine, run loop, peripherals, semihosting, CLI.

    from mcusim.sim import Simulation, Firmware, load_board
    sim = Simulation(Firmware.open("app.elf"), load_board("nucleo-f446re"))
    result = sim.run()
"""

from __future__ import annotations

import importlib
from typing import Any

# Resolved on first use, so that mcusim.memory and mcusim.isa can import mcusim.sim.errors
# without importing the engine (which imports them).
_EXPORTS = {
    "BoardSpec": "mcusim.memory.board",
    "load_board": "mcusim.memory.board",
    "Simulation": "mcusim.sim.engine",
    "Firmware": "mcusim.sim.firmware",
    "RunResult": "mcusim.sim.result",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'mcusim.sim' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
