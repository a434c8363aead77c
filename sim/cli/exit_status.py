"""The process exit status of a command that ran firmware: one mapping, documented in the
README's exit-status table and `mcusim --help`.

A program's own exit code passes through when it fits a process status (0-255). Other values
(a 32-bit semihosting code) keep their low byte, as a POSIX shell would show them (`exit(-1)`
gives 255), except that a non-zero code whose low byte is 0 (256, 512, -256 ...) gives 1: a
failing program never becomes a pass. A run that did not end by the program's exit gives its
stop's code (sim/errors.py ExitCode); a passed memory budget gives 85 whatever the program
returned.
"""

from __future__ import annotations

from mcusim.base.errors import ExitCode
from mcusim.sim.core.faults import FAULT_EXIT_CODES
from mcusim.sim.result import RunResult


def program_status(code: int) -> int:
    """A program's exit code as a process exit status."""
    if 0 <= code <= 255:
        return code
    low = code & 0xFF
    return low if low else 1


def run_status(result: RunResult, over_budget: bool = False) -> int:
    """The exit status of `mcusim run`/`trace` for a finished run."""
    if over_budget:
        return int(ExitCode.MEMORY_BUDGET)
    if result.exit_code is not None:
        return program_status(result.exit_code)
    return int(FAULT_EXIT_CODES[result.stop])
