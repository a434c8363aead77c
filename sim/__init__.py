"""The simulator: the engine and its parts (sim/core, sim/devices), the accounting paths
(sim/accounting), the observers (sim/observe), the result, and the CLI (sim/cli).

    from mcusim.sim import Firmware, RunOptions, load_board, make_simulation
    sim = make_simulation(Firmware.open("app.elf"), load_board("nucleo-f446re"), RunOptions())
    result = sim.run()

The names are imported when first used (PEP 562), so that importing a subpackage (the CLI,
whose `--help` must start fast) does not load the engine, Unicorn, capstone and numpy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mcusim.memory.board import BoardSpec, load_board
    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.core.firmware import Firmware
    from mcusim.sim.core.options import (
        Limits,
        MemoryOptions,
        ProfileOptions,
        ProgramIO,
        RunOptions,
    )
    from mcusim.sim.result import RunResult
    from mcusim.sim.simulation import make_simulation

__all__ = ["BoardSpec", "Firmware", "Limits", "MemoryOptions", "ProfileOptions", "ProgramIO",
           "RunOptions", "RunResult", "Simulation", "load_board", "make_simulation"]


def __getattr__(name: str) -> Any:
    """The first use of a public name imports them all (they come together: a run needs
    each), and binds them here so later uses are plain attribute reads."""
    if name not in __all__:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from mcusim.memory.board import BoardSpec, load_board  # noqa: F401 - bound below
    from mcusim.sim.core.engine import Simulation  # noqa: F401
    from mcusim.sim.core.firmware import Firmware  # noqa: F401
    from mcusim.sim.core.options import (  # noqa: F401
        Limits,
        MemoryOptions,
        ProfileOptions,
        ProgramIO,
        RunOptions,
    )
    from mcusim.sim.result import RunResult  # noqa: F401
    from mcusim.sim.simulation import make_simulation  # noqa: F401

    found = {n: v for n, v in locals().items() if n in __all__}
    globals().update(found)
    return found[name]


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
