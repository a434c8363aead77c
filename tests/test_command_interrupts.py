"""Ctrl-C and SIGTERM in the commands that run the simulator for their own ends (`mcusim nn`,
`mcusim dse`): they stop as `mcusim run` does (130, 143, no traceback), not as a failed
firmware, and a pool of workers never keeps the command alive."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcusim.base.errors import ExitCode, Terminated
from mcusim.nn.run import run_model

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "nn" / "models" / "digits_cnn_int8.tflite"
MCUSIM = Path(sys.executable).with_name("mcusim")


@pytest.fixture(scope="module", autouse=True)
def nn_cache(tmp_path_factory):
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MCUSIM_CACHE", str(tmp_path_factory.mktemp("nn-cache")))
        yield


def _signal_at_first_step(signum: int):
    """A progress callback that sends `signum` to this process when the inference's first
    step begins (a marker hook inside the run: the engine's handler takes it)."""
    sent: list[str] = []

    def progress(message: str) -> None:
        if "step 1/" in message and not sent:
            sent.append(message)
            os.kill(os.getpid(), signum)

    return progress, sent


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_during_the_model_run_stops_the_command_not_a_firmware_error(signum):
    progress, sent = _signal_at_first_step(signum)
    expected = KeyboardInterrupt if signum == signal.SIGINT else Terminated
    with pytest.raises(expected) as info:
        run_model(DIGITS, "nucleo-f446re", progress=progress)
    assert sent  # the signal came during the run
    if signum == signal.SIGTERM:
        assert info.value.exit_code == ExitCode.TERMINATED
        assert "did not finish" not in str(info.value)


def _dse(out: Path) -> subprocess.Popen:
    models = ROOT / "nn" / "models"
    return subprocess.Popen(
        [str(MCUSIM), "dse", str(DIGITS), "--board", "nucleo-f446re", "--data",
         str(models / "digits_test.npz"), "--out", str(out), "--jobs", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _wait_for_measuring(p: subprocess.Popen, out: Path, seconds: float = 120) -> None:
    """Until the workers have measured something (the study's cache has a line)."""
    deadline = time.monotonic() + seconds
    cache = out / "cache.jsonl"
    while time.monotonic() < deadline and p.poll() is None:
        if cache.is_file() and cache.stat().st_size:
            return
        time.sleep(0.05)
    pytest.fail("dse measured nothing")


@pytest.mark.skipif(not MCUSIM.exists(), reason="needs the installed mcusim command")
@pytest.mark.parametrize("how", ["terminal", "twice"])
def test_ctrl_c_stops_dse_and_its_workers_without_a_traceback(tmp_path, how):
    """'terminal': Ctrl-C reaches the whole process group (mcusim and its idle workers);
    'twice': an impatient second Ctrl-C (or `timeout -s INT`, which signals the process and
    then its group) while the first one is being handled. Either way mcusim exits 130 at
    once, prints no traceback (a worker's included) and leaves no worker behind."""
    out = tmp_path / "study"
    p = _dse(out)
    try:
        _wait_for_measuring(p, out)
        os.killpg(p.pid, signal.SIGINT)
        if how == "twice":
            time.sleep(0.2)
            os.kill(p.pid, signal.SIGINT)
        _, err = p.communicate(timeout=30)
    finally:
        if p.poll() is None:
            os.killpg(p.pid, signal.SIGKILL)
            p.communicate()
    text = err.decode()
    assert p.returncode == ExitCode.INTERRUPTED, text
    assert "Traceback" not in text and "Exception ignored" not in text, text
    # The group is gone: no worker left running (given a moment for the killed workers to be
    # reaped; without the fix, they wait for work forever).
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.killpg(p.pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail("dse's workers outlived it")
