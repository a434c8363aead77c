"""mcusim: a cycle-approximate Cortex-M microcontroller simulator.

    from mcusim import Firmware, RunOptions, load_board, make_simulation
    result = make_simulation(Firmware.open("app.elf"), load_board("nucleo-f446re"),
                             RunOptions()).run()
    print(result.cycles, result.exit_code)

The folders of the repository install as the subpackages (pyproject.toml): mcusim.base,
mcusim.isa, mcusim.memory, mcusim.traces, mcusim.sim (and mcusim.nn).

The names are imported when first used (PEP 562): `import mcusim.sim.cli` (the command line)
imports this package first, and must not load the engine with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mcusim.base.errors import ExitCode, McusimError

if TYPE_CHECKING:
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


def __getattr__(name: str) -> Any:
    """The simulator's names, from mcusim.sim (which imports them on first use)."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from mcusim import sim

    value = getattr(sim, name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
