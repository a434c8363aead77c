"""Ctrl-C and SIGTERM in the commands that run the simulator for their own ends (`mcusim nn`,
`mcusim dse`): they stop as `mcusim run` does (130, 143, no traceback), not as a failed
firmware, and a pool of workers never keeps the command alive."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from mcusim.base.errors import ExitCode, Terminated
from mcusim.nn.run import run_model

ROOT = Path(__file__).resolve().parents[1]
DIGITS = ROOT / "nn" / "models" / "digits_cnn_int8.tflite"


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
