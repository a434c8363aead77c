"""Exit statuses: a failing program never becomes 0, and bad option values get the documented
codes (README "Exit status")."""

from __future__ import annotations

import pytest

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import main

from .asm import build

EXIT_WITH = """
    ldr r1, =block
    movs r0, #0x20
    bkpt 0xab
    .align 2
block:
    .word 0x20026
    .word {code}
"""


@pytest.mark.parametrize(("code", "status"), [(0, 0), (3, 3), (255, 255), (256, 1),
                                              (512, 1), (-1, 255), (-256, 1), (257, 1),
                                              (0x7FFFFF00, 1)])
def test_program_exit_code_never_becomes_a_pass(tmp_path, capsys, code, status):
    elf = build(tmp_path, EXIT_WITH.format(code=code))
    assert main(["run", str(elf)]) == status


@pytest.mark.parametrize(("args", "status", "says"), [
    (["--clock", "abc"], ExitCode.USAGE, "--clock"),
    (["--clock", "0"], ExitCode.USAGE, "--clock"),
    (["--clock", "0.5Hz"], ExitCode.USAGE, "--clock"),
    # was accepted as a 1e+32 MHz board with "clock_hz": 99999999999999997748809823456034029568
    # in the JSON (not even the number given)
    (["--clock", "99999999999999999999999999999GHz"], ExitCode.USAGE, "is too large"),
    (["--board", "nonexistent"], ExitCode.USAGE, "unknown board"),
    (["--board", "/missing.toml"], ExitCode.NO_INPUT, "does not exist"),
    (["--board", "/tmp"], ExitCode.NO_INPUT, "is a directory"),
])
def test_bad_option_values(tmp_path, capsys, args, status, says):
    elf = build(tmp_path, EXIT_WITH.format(code=0))
    assert main(["run", str(elf), *args]) == status
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


SPIN = """
1:  adds r0, r0, #1
    b 1b
"""


@pytest.mark.parametrize("option", ["--max-instructions", "--max-cycles", "--max-stack",
                                    "--max-ram", "--top", "--max-accesses"])
def test_limits_that_do_not_fit_are_refused(tmp_path, capsys, option):
    """A value past 64 bits used to wrap in the native path (18446744073709551621 stopped
    after 5 instructions)."""
    elf = build(tmp_path, SPIN)
    command = "trace" if option == "--max-accesses" else "run"
    bound = [] if option == "--max-instructions" else ["--max-instructions", "1000"]
    out = ["-o", str(tmp_path / "t.mtrace")] if command == "trace" else []
    assert main([command, str(elf), *out, *bound, option, "18446744073709551621"]) == ExitCode.USAGE
    assert "too large" in capsys.readouterr().err


def test_simulation_refuses_a_limit_that_does_not_fit(tmp_path):
    from mcusim.base.errors import UsageError
    from mcusim.memory.board import load_board
    from mcusim.sim import Firmware, Limits, RunOptions, Simulation

    elf = build(tmp_path, SPIN)
    with pytest.raises(UsageError, match="too large"):
        Simulation(Firmware.open(elf), load_board("nucleo-f446re"),
                   RunOptions(limits=Limits(max_instructions=1 << 64)))


def test_a_limit_is_exact_on_both_paths(tmp_path, capsys):
    elf = build(tmp_path, SPIN)
    assert main(["run", str(elf), "--max-instructions", "5"]) == ExitCode.LIMIT_REACHED


@pytest.mark.parametrize("order", [
    ["run", "--profile", "{elf}"],
    ["run", "{elf}", "--profile"],
    ["run", "--profile=lines", "{elf}"],
    ["run", "{elf}", "--profile", "lines"],
    ["run", "{elf}", "--profile=functions"],
])
def test_profile_option_in_any_common_order(tmp_path, capsys, order):
    elf = build(tmp_path, EXIT_WITH.format(code=0))
    assert main([w.format(elf=elf) for w in order]) == 0
    assert "functions by self cycles" in capsys.readouterr().err


def test_profile_with_a_bad_mode(tmp_path, capsys):
    elf = build(tmp_path, EXIT_WITH.format(code=0))
    assert main(["run", str(elf), "--profile=everything"]) == ExitCode.USAGE


def test_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as e:
        main(["--version"])
    assert e.value.code == 0
    assert version("mcusim") in capsys.readouterr().out


@pytest.mark.parametrize(("option", "counted"), [("--max-instructions", "instructions"),
                                                 ("--max-cycles", "cycles")])
def test_a_limit_says_what_it_counted(tmp_path, capsys, option, counted):
    elf = build(tmp_path, SPIN)
    assert main(["run", str(elf), option, "1000"]) == ExitCode.LIMIT_REACHED
    err = capsys.readouterr().err
    assert f"stopped at the limit {option} 1000 ({counted} are counted per block" in err
