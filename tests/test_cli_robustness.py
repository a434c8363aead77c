"""The command line under a new user's inputs (session 20 trial): user text printed as text,
Ctrl-C and unknown boards in validate, closed pipes, `--json -`, budgets in the JSON, missing
directories, negative option values, help for every option, warnings for what has no effect."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from mcusim.base.errors import ExitCode
from mcusim.sim.cli import build_parser, main
from mcusim.sim.core.interrupt import SAME_REQUEST_SECONDS

MCUSIM = Path(sys.executable).with_name("mcusim")


def test_markup_and_emoji_codes_in_paths_are_printed_as_written(tmp_path, capsys):
    elf = tmp_path / "x:smile:y" / "[bold]missing:fire:.elf"
    assert main(["run", str(elf)]) == ExitCode.NO_INPUT
    err = capsys.readouterr().err
    assert str(elf) in err and "\N{GRINNING FACE WITH SMILING EYES}" not in err


def test_trace_names_its_output_as_given(kernels, tmp_path, capsys):
    out_dir = tmp_path / "[bold]d:smile:"
    out_dir.mkdir()
    out = out_dir / "c.mtrace"
    rc = main(["trace", str(kernels / "nucleo-f446re" / "hello.elf"), "-o", str(out),
               "--max-accesses", "10"])
    assert rc == 3  # hello.elf's own exit code
    assert f"accesses to {out}" in capsys.readouterr().err


def test_validate_refuses_an_unknown_board_before_running(kernels, capsys):
    rc = main(["validate", "--kernels-dir", str(kernels.parent), "--boards",
               "nucleo-f446re,nucleo-bogus"])
    err = capsys.readouterr().err
    assert rc == ExitCode.USAGE
    assert "unknown board 'nucleo-bogus'" in err and "nucleo-g071rb" in err
    assert "running" not in err  # nothing ran


def test_validate_finds_the_installed_kernels_from_any_folder(kernels, tmp_path, monkeypatch,
                                                              capsys):
    # As `mcusim nn` does: not ./kernels_c, which does not exist here (it would say so, 66).
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MCUSIM_KERNELS", raising=False)
    rc = main(["validate", "--boards", "nucleo-bogus"])
    assert rc == ExitCode.USAGE  # the build folder was found: on to the boards
    assert "unknown board 'nucleo-bogus'" in capsys.readouterr().err


def test_ctrl_c_during_validate_exits_130(kernels, capsys):
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        rc = main(["validate", "--kernels-dir", str(kernels.parent), "--boards",
                   "nucleo-f446re"])
    finally:
        timer.cancel()
    err = capsys.readouterr().err
    assert rc == ExitCode.INTERRUPTED
    assert "mcusim: interrupted" in err and "did not run to a clean exit" not in err


@pytest.mark.parametrize(("signals", "rc"), [((signal.SIGINT,), ExitCode.INTERRUPTED),
                                              ((signal.SIGTERM,), ExitCode.TERMINATED),
                                              ((signal.SIGINT, signal.SIGINT), None)])
def test_a_signal_after_the_run_ends_keeps_its_outputs(signals, rc, kernels, tmp_path,
                                                       monkeypatch, capsys):
    # Signals sent while the finished run's report is printed (seconds on a long profiled
    # run): the first lets the report and the JSON finish, then exits 130/143; a second one
    # stops at once (130 from the CLI's KeyboardInterrupt, and no JSON).
    from mcusim.sim.cli import report

    printing = report.print_summary

    def interrupted(*a, **k):
        for n, s in enumerate(signals):
            if n:  # (a second Ctrl-C, not the copy of the first: sim/core/interrupt.py)
                time.sleep(SAME_REQUEST_SECONDS + 0.05)
            os.kill(os.getpid(), s)
        return printing(*a, **k)

    monkeypatch.setattr(report, "print_summary", interrupted)
    out = tmp_path / "r.json"
    code = main(["run", str(kernels / "nucleo-f446re" / "cnn_chain.elf"), "--profile",
                 "--json", str(out)])
    err = capsys.readouterr().err
    if rc is None:
        assert code == ExitCode.INTERRUPTED and not out.exists()
        return
    assert code == rc and "its report and outputs are complete" in err
    assert json.loads(out.read_text())["stop"] == "exit"
    assert "Traceback" not in err


def test_a_ctrl_c_while_a_trace_is_written_keeps_the_trace(kernels, tmp_path, monkeypatch,
                                                           capsys):
    from mcusim.sim.cli import trace

    writing = trace.write_trace

    def interrupted(*a, **k):
        os.kill(os.getpid(), signal.SIGINT)
        return writing(*a, **k)

    monkeypatch.setattr(trace, "write_trace", interrupted)
    out = tmp_path / "c.mtrace"
    code = main(["trace", str(kernels / "nucleo-f446re" / "cnn_chain.elf"), "-o", str(out)])
    err = capsys.readouterr().err
    assert code == ExitCode.INTERRUPTED and "its report and outputs are complete" in err
    assert f"accesses to {out}" in err and out.stat().st_size > 0


def _run_into_a_closed_pipe(args: list[str], cwd: Path) -> int:
    read, write = os.pipe()
    os.close(read)  # the reader is gone before the first byte (`| head -0`)
    try:
        return subprocess.run([str(MCUSIM), *args], stdout=write, stderr=write, cwd=cwd,
                              timeout=120).returncode
    finally:
        os.close(write)


@pytest.mark.skipif(not MCUSIM.exists(), reason="needs the installed mcusim command")
def test_a_closed_pipe_keeps_the_exit_status_and_the_json(kernels, tmp_path):
    out = tmp_path / "p.json"
    elf = kernels / "nucleo-f446re" / "conv3x3.elf"
    assert _run_into_a_closed_pipe(["run", str(elf), "--profile", "--json", str(out)],
                                   tmp_path) == 0
    assert json.loads(out.read_text())["stop"] == "exit"
    assert _run_into_a_closed_pipe(["run", str(elf), "--max-instructions", "1000"],
                                   tmp_path) == ExitCode.LIMIT_REACHED


def test_json_to_stdout_is_parseable_when_the_program_prints(kernels, capsys):
    rc = main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--json", "-"])
    cap = capsys.readouterr()
    assert rc == 3
    assert json.loads(cap.out)["exit_code"] == 3
    assert "hello: int 42" in cap.err  # the program's output, moved to stderr


def test_a_passed_max_ram_is_recorded_in_the_json(kernels, tmp_path, capsys):
    out = tmp_path / "mr.json"
    rc = main(["run", str(kernels / "nucleo-f446re" / "heap_pattern.elf"), "--max-ram", "4K",
               "--json", str(out)])
    assert rc == ExitCode.MEMORY_BUDGET
    data = json.loads(out.read_text())
    assert data["stop"] == "memory_budget"
    assert any("--max-ram 4,096" in w for w in data["warnings"])
    assert "exceeds --max-ram" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["run", "trace"])
def test_a_missing_fs_root_is_an_error(kernels, tmp_path, capsys, command):
    missing = tmp_path / "nodir"
    args = [command, str(kernels / "nucleo-f446re" / "hello.elf"), "--fs-root", str(missing)]
    if command == "trace":
        args += ["-o", str(tmp_path / "t.mtrace")]
    assert main(args) == ExitCode.NO_INPUT
    assert f"--fs-root {missing}: no such directory" in capsys.readouterr().err


def test_view_of_a_directory_is_a_missing_input_named_once(tmp_path, capsys):
    assert main(["view", str(tmp_path)]) == ExitCode.NO_INPUT
    err = capsys.readouterr().err
    assert "is a directory" in err and err.count(str(tmp_path)) == 1


def test_view_of_a_non_trace_names_the_file_once(tmp_path, capsys):
    bad = tmp_path / "t.mtrace"
    bad.write_text("not a trace\n")
    assert main(["view", str(bad)]) == ExitCode.BAD_INPUT
    assert capsys.readouterr().err.count(str(bad)) == 1


def test_check_of_a_directory_says_so(tmp_path, capsys):
    assert main(["check", str(tmp_path)]) == ExitCode.NO_INPUT
    assert f"{tmp_path} is a directory" in capsys.readouterr().err


@pytest.mark.parametrize(("option", "value", "expected"), [
    ("--max-stack", "-4K", "expected a positive size"),
    ("--max-cycles", "-1", "expected a positive number"),
    ("--top", "-3", "expected a positive number"),
    ("--clock", "-16MHz", "positive"),
    ("--irq", "-1@100", "is not an IRQ number"),
])
def test_negative_values_reach_the_options_own_check(kernels, capsys, option, value, expected):
    rc = main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), option, value])
    err = capsys.readouterr().err
    assert rc == ExitCode.USAGE
    assert expected in err and "expected one argument" not in err


def _subcommand(name: str) -> argparse.ArgumentParser:
    sub = next(a for a in build_parser()._actions if isinstance(a, argparse._SubParsersAction))
    return sub.choices[name]


@pytest.mark.parametrize("command", ["run", "trace", "view", "validate", "check"])
def test_every_option_has_help_text(command):
    for action in _subcommand(command)._actions:
        if action.option_strings:
            assert action.help and action.help != argparse.SUPPRESS, action.option_strings


def test_profile_modes_are_documented(capsys):
    assert main(["run", "x.elf", "--profile=bogus"]) == ExitCode.USAGE
    assert "functions, lines" in capsys.readouterr().err
    text = " ".join(_subcommand("run").format_help().split())
    assert "--profile=MODE" in text and "functions" in text and "lines" in text


def test_a_clock_above_the_boards_maximum_is_warned_of(kernels, tmp_path, capsys):
    out = tmp_path / "c.json"
    rc = main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--clock", "1GHz",
               "--json", str(out)])
    assert rc == 3
    (warning,) = json.loads(out.read_text())["warnings"]
    assert "above nucleo-f446re's maximum of 180" in warning
    assert f"mcusim: warning: {warning}" in capsys.readouterr().err


def test_a_clock_within_the_maximum_gives_no_warning(kernels, tmp_path, capsys):
    out = tmp_path / "c.json"
    assert main(["run", str(kernels / "nucleo-f446re" / "hello.elf"), "--clock", "16MHz",
                 "--json", str(out)]) == 3
    assert json.loads(out.read_text())["warnings"] == []


def test_a_trace_window_after_the_run_is_warned_of(kernels, tmp_path, capsys):
    rc = main(["trace", str(kernels / "nucleo-f446re" / "hello.elf"), "-o",
               str(tmp_path / "w.mtrace"), "--window", "100000000:200000000"])
    err = capsys.readouterr().err
    assert rc == 3
    assert "warning: --window starts at cycle 100,000,000, after the run ended" in err


@pytest.mark.parametrize(("signum", "raised"), [(signal.SIGINT, KeyboardInterrupt),
                                                 (signal.SIGTERM, Exception)])
def test_a_signal_between_validate_runs_is_kept_until_the_next_run(signum, raised):
    from mcusim.sim.cli import validate
    from mcusim.sim.core import interrupt

    with interrupt.deferred_signals():
        os.kill(os.getpid(), signum)  # noted by the handler, nothing raised here
        assert interrupt.pending_signal() == signum
        with pytest.raises(raised) as caught:
            validate._stop_if_signalled()
    assert interrupt.pending_signal() is None  # forgotten with the handler
    if signum == signal.SIGTERM:
        assert caught.value.exit_code == ExitCode.TERMINATED


def test_the_ram_budget_is_the_library_s_too(kernels):
    """MemoryOptions(max_ram=...) judges the peak where --max-ram does: a library caller (the
    pytest plugin, a sweep) gets the same stop and sentence as the command line."""
    from mcusim.memory.board import load_board
    from mcusim.sim import Firmware, MemoryOptions, ProgramIO, RunOptions, make_simulation

    elf = kernels / "nucleo-f446re" / "heap_pattern.elf"

    def run(max_ram):
        io_ = ProgramIO(stdout=io.BytesIO(), stderr=io.BytesIO())
        return make_simulation(Firmware.open(elf), load_board("nucleo-f446re"), RunOptions(
            io=io_, memory=MemoryOptions(max_ram=max_ram))).run()

    within, over = run(1 << 20), run(4096)
    assert within.stop == "exit" and within.memory.over_budget is None
    assert over.stop == "memory_budget" and over.exit_code == within.exit_code
    assert over.memory.over_budget.endswith("exceeds --max-ram 4,096")
    assert over.warnings[-1] == over.memory.over_budget
    assert over.cycles == within.cycles  # judged at the end: the run itself is the same
    assert json.loads(over.to_json_text())["memory"]["over_budget"] == over.memory.over_budget


def test_trace_says_when_max_accesses_cut_the_recording(kernels, tmp_path, capsys):
    """`mcusim trace --max-accesses 10` said only 'recorded 10 accesses': nothing told the
    user that the rest of the run's accesses were left out (only `mcusim view` did)."""
    elf = kernels / "nucleo-f446re" / "conv3x3.elf"
    out = tmp_path / "c.mtrace"
    assert main(["trace", str(elf), "-o", str(out), "--max-accesses", "10"]) == 0
    err = capsys.readouterr().err
    assert "recorded 10 accesses" in err
    assert "--max-accesses 10 reached: 207,370 later accesses were not recorded" in err
    assert main(["trace", str(elf), "-o", str(out)]) == 0
    assert "not recorded" not in capsys.readouterr().err
