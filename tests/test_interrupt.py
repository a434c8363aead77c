"""Ctrl-C (SIGINT) and SIGTERM stop a run within a fraction of a second on both accounting
paths, with the usual summary marked "interrupted", the JSON written, and exit 130 / 143."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import time

import pytest

from mcusim.sim.accounting import native_lib as native_path

from .asm import build

# Says it runs (SYS_WRITE0 "go"), then an endless loop that is not "b ." (which is detected
# and ends the run by itself).
SPIN = """
    movs r0, #0x04
    adr r1, go
    bkpt 0xab
1:  adds r0, r0, #1
    subs r1, r1, #1
    b 1b
    .align 2
go: .asciz "go\\n"
"""

PATHS = ["0", "1"] if native_path.load_library() is not None else ["0"]


def _start(elf, tmp_path, native: str) -> tuple[subprocess.Popen, float]:
    env = dict(os.environ, MCUSIM_NATIVE=native)
    proc = subprocess.Popen([sys.executable, "-m", "mcusim.sim.cli", "run", str(elf),
                             "--json", str(tmp_path / "r.json")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env,
                            cwd=tmp_path)
    # Wait until the program has printed "go": it is emulating then, however long imports and
    # set-up took on a loaded machine.
    ready, _, _ = select.select([proc.stdout], [], [], 60)
    assert ready and proc.stdout.readline() == b"go\n", proc.communicate()
    time.sleep(0.2)  # well inside the endless loop
    return proc, time.monotonic()


@pytest.mark.parametrize("native", PATHS)
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_stops_the_run(tmp_path, native, sig, code):
    elf = build(tmp_path, SPIN)
    proc, _ = _start(elf, tmp_path, native)
    assert proc.poll() is None, proc.communicate()
    sent = time.monotonic()
    proc.send_signal(sig)
    try:
        out, err = proc.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the run did not stop on the signal")
    took = time.monotonic() - sent
    text = err.decode()
    assert proc.returncode == code, text
    assert took < 1.0, f"stopping took {took:.2f} s"
    assert "interrupted" in text
    assert "instructions" in text and "cycles" in text  # the usual summary
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["stop"] == ("interrupted" if sig == signal.SIGINT else "terminated")
    assert data["instructions"] > 1000


@pytest.mark.parametrize("native", PATHS)
@pytest.mark.parametrize(("sig", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_a_signal_delivered_twice_at_once_is_one_request(tmp_path, native, sig, code):
    """GNU timeout (`timeout -s INT 60 mcusim run ...`, as a CI job stops one) sends its signal
    to the child and to its process group: two deliveries microseconds apart. mcusim took the
    copy for a second Ctrl-C and ended at once about half the time, with no summary and no
    JSON. A copy within 0.25 s is the same request."""
    elf = build(tmp_path, SPIN)
    proc, _ = _start(elf, tmp_path, native)
    proc.send_signal(sig)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == code, err.decode()
    assert "instructions" in err.decode()  # the usual summary
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["stop"] == ("interrupted" if sig == signal.SIGINT else "terminated")


@pytest.mark.parametrize("native", PATHS)
def test_timeout_bounds_a_run(tmp_path, native):
    elf = build(tmp_path, SPIN)
    env = dict(os.environ, MCUSIM_NATIVE=native)
    start = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "mcusim.sim.cli", "run", str(elf), "--timeout",
                           "1.5", "--json", str(tmp_path / "r.json")], capture_output=True,
                          env=env, cwd=tmp_path, timeout=30)
    assert proc.returncode == 83, proc.stderr.decode()
    assert time.monotonic() - start < 6
    assert "--timeout 1.5" in proc.stderr.decode()
    assert json.loads((tmp_path / "r.json").read_text())["stop"] == "limit"
