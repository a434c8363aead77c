"""Observing a run never changes it: with a profile, memory accounting (budgets), symbol
regions or an access trace, every bundled program prints the same, exits the same and runs the
same instructions and cycles as without (issue 14). Each test runs on the default path: CI runs
the suite once on the pure-Python path (MCUSIM_NATIVE=0) and once on the native one."""

from __future__ import annotations

import pytest

from .conftest import BUILD, simulate

BOARD = "nucleo-f446re"
# The long variants (conv3x3_big, branchy) run the same code as conv3x3 and branchy_small
# for tens of millions of instructions: too slow for a test that runs each program 10 times.
LONG = {"conv3x3_big", "branchy"}
PROGRAMS = sorted(p.stem for p in (BUILD / BOARD).glob("*.elf") if p.stem not in LONG) or [
    "hello"]

OBSERVERS: dict[str, dict[str, object]] = {
    "profile": {"profile": True, "memory": True, "record_accesses": True},
    "memory budget": {"memory": True},
    "region": {"symbol_regions": [("main", "exit")]},
    "trace": {"memory": True, "record_accesses": True, "live_analysis": False},
}


def _outcome(run) -> tuple[object, ...]:  # noqa: ANN001 - a conftest Run
    r = run.result
    return run.stdout, run.stderr, r.exit_code, r.stop, r.instructions, r.cycles


@pytest.mark.parametrize("program", PROGRAMS)
def test_observing_changes_nothing(kernels, program):
    elf = kernels / BOARD / f"{program}.elf"
    plain = simulate(elf, BOARD)
    # Every code hook was placed before the run: no restart (sim/core/code_map.py says why).
    assert plain.sim.restarts == 0
    for name, options in OBSERVERS.items():
        observed = simulate(elf, BOARD, **options)
        assert _outcome(observed) == _outcome(plain), (program, name)
        assert observed.sim.restarts == 0, (program, name)


def test_exit_handlers_run_when_profiled(kernels):
    """The reported case: atexit handlers and a destructor called through `blx r2` in newlib's
    __call_exitprocs were skipped with --profile."""
    elf = kernels / BOARD / "atexit_dtor.elf"
    assert simulate(elf, BOARD, **OBSERVERS["profile"]).stdout == b"bye\ndtor\ndtor\n"
