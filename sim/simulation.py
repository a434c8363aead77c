"""A Simulation built from its parts: the accounting path the run allows and the observers
its options ask for.

    from mcusim.sim import Firmware, RunOptions, load_board, make_simulation
    sim = make_simulation(Firmware.open("app.elf"), load_board("nucleo-f446re"), RunOptions())
    result = sim.run()
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcusim.base.errors import UsageError
from mcusim.sim.accounting import native_lib
from mcusim.sim.core.engine import Simulation
from mcusim.sim.core.options import RunOptions

if TYPE_CHECKING:
    from mcusim.isa.timing import TimingModel
    from mcusim.memory.board_spec import BoardSpec
    from mcusim.sim.core.firmware import Firmware
    from mcusim.sim.core.observer import Observer


def accounting_path(options: RunOptions) -> type[Simulation]:
    """The native hot path when it is built, unless `options.native` is False; else the
    pure-Python path, accounting blocks in batches where the run allows it, unless
    `options.batched` is False. Only the path chosen is imported (the batched one needs
    numpy, which a plain run does not otherwise load)."""
    if options.native is not False:
        if native_lib.load_library() is not None:
            from mcusim.sim.accounting.native import NativeSimulation

            return NativeSimulation
        if options.native:
            raise UsageError(f"the native hot path is not available: "
                             f"{native_lib.load_error()}")
    from mcusim.sim.accounting.batched import BatchedSimulation, batch_eligible

    if options.batched is not False and batch_eligible(options):
        return BatchedSimulation
    return Simulation


def observers_for(options: RunOptions) -> list[Observer]:
    """The observers the options ask for, in the order they finish (the memory observer adds
    its counters to the profile)."""
    observers: list[Observer] = []
    if options.profile is not None:
        from mcusim.sim.observe.profiling import Profiler

        observers.append(Profiler(lines=options.profile.lines))
    if options.memory is not None:
        from mcusim.sim.observe.memory import MemoryObserver

        observers.append(MemoryObserver(options.memory))
    return observers


def make_simulation(firmware: Firmware, board: BoardSpec, options: RunOptions | None = None,
                    *, timing: TimingModel | None = None) -> Simulation:
    options = options if options is not None else RunOptions()
    path = accounting_path(options)
    return path(firmware, board, options, timing=timing, observers=observers_for(options))
