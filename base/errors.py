"""Errors that end a run or a command, each with its documented process exit code.

Every error a user can cause is one of these; the CLI prints its message as one paragraph and
exits with its code. The codes sit above the range programs commonly use for their own exit
status, so a script can tell "the firmware said 3" from "mcusim could not run it".
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    """Process exit codes of `mcusim` besides the program's own exit status."""

    USAGE = 64  # bad command line or option value
    BAD_INPUT = 65  # malformed ELF, board file or other input data
    NO_INPUT = 66  # an input file does not exist or cannot be read
    INTERNAL = 70  # a bug in mcusim
    CANT_WRITE = 73  # an output cannot be made: a file not writable or in the way, the --gdb port
    MEMORY_FAULT = 80  # unmapped access, write to flash, bus error
    UNDEFINED_INSTRUCTION = 81  # undefined instruction or invalid state (non-Thumb target)
    ESCALATED_FAULT = 82  # a fault hardware escalates to HardFault/lockup (BKPT, SVC, ...)
    LIMIT_REACHED = 83  # --max-instructions / --max-cycles, or a provable infinite loop
    RESET_REQUESTED = 84  # the program requested a system reset (AIRCR.SYSRESETREQ)
    MEMORY_BUDGET = 85  # --max-stack / --max-ram exceeded
    INTERRUPTED = 130  # SIGINT (Ctrl-C): 128 + 2, as shells report it
    TERMINATED = 143  # SIGTERM: 128 + 15


class McusimError(Exception):
    """An error with a user-facing message and an exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL


class Terminated(McusimError):
    """SIGTERM stopped a command's run outside the run command itself (SIGINT is
    KeyboardInterrupt, which the CLI reports as "interrupted", exit 130)."""

    exit_code = ExitCode.TERMINATED


class UsageError(McusimError):
    exit_code = ExitCode.USAGE


class InputError(McusimError):
    """Input data is malformed (ELF, board file, ...)."""

    exit_code = ExitCode.BAD_INPUT


class MissingInputError(McusimError):
    exit_code = ExitCode.NO_INPUT


class OutputError(McusimError):
    exit_code = ExitCode.CANT_WRITE


class BoardError(InputError):
    """A board or SoC file is malformed or names something that does not exist."""


class ElfError(InputError):
    """The firmware file cannot be run: not an ELF, wrong architecture, nothing to load."""
