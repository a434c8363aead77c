"""The simulator: engine, run loop, peripherals, semihosting, CLI.

    from mcusim.sim import Simulation, Firmware, load_board
    sim = Simulation(Firmware.open("app.elf"), load_board("nucleo-f446re"))
    result = sim.run()
"""

from mcusim.memory.board import BoardSpec, load_board
from mcusim.sim.engine import Simulation
from mcusim.sim.firmware import Firmware
from mcusim.sim.result import RunResult

__all__ = ["BoardSpec", "Firmware", "RunResult", "Simulation", "load_board"]
