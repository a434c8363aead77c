"""`mcusim run --gdb`: gdb-multiarch --batch drives the simulated core over the remote protocol.

Every subprocess has a timeout and the stub listens on a port the OS picks (`--gdb 0`, read
back from mcusim's message), so these tests never hang and never collide."""

from __future__ import annotations

import json
import re
import selectors
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from mcusim.sim.cli import main
from mcusim.sim.gdb import parse_address

from .conftest import ROOT

GDB = shutil.which("gdb-multiarch")
MCUSIM = [sys.executable, "-m", "mcusim.sim.cli"]
needs_gdb = pytest.mark.skipif(GDB is None, reason="gdb-multiarch is not installed "
                               "(scripts/setup.sh installs it)")


def _wait_for_port(proc: subprocess.Popen, timeout: float = 30) -> int:
    """The port from mcusim's 'waiting for GDB on 127.0.0.1:PORT' line on stderr."""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr, selectors.EVENT_READ)
    seen, deadline = b"", time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not sel.select(timeout=0.5):
            if proc.poll() is not None:
                break
            continue
        chunk = proc.stderr.read1(4096)  # type: ignore[union-attr]
        if not chunk:
            break
        seen += chunk
        m = re.search(rb"waiting for GDB on 127\.0\.0\.1:(\d+)", seen)
        if m:
            return int(m.group(1))
    raise AssertionError(f"mcusim did not start listening: {seen.decode(errors='replace')}")


def debug(elf: Path, commands: list[str], tmp_path: Path,
          extra: tuple[str, ...] = ()) -> tuple[str, int, str, dict]:
    """Run `elf` under `--gdb 0`, drive it with `commands` in gdb --batch; returns GDB's
    output, mcusim's exit status, its stderr and its JSON result."""
    out_json = tmp_path / "gdb-run.json"
    proc = subprocess.Popen([*MCUSIM, "run", str(elf), "--gdb", "0", "--json", str(out_json),
                             *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        port = _wait_for_port(proc)
        script = tmp_path / "cmds.gdb"
        script.write_text("\n".join(["set pagination off", "set confirm off",
                                     f"target remote 127.0.0.1:{port}", *commands]) + "\n")
        gdb = subprocess.run([GDB, "--batch", "-nx", "-x", str(script), str(elf)],
                             capture_output=True, text=True, timeout=60, cwd=ROOT)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    return gdb.stdout + gdb.stderr, proc.returncode, err.decode(), json.loads(
        out_json.read_text())


def reference(elf: Path, tmp_path: Path, extra: tuple[str, ...] = ()) -> dict:
    out = tmp_path / "plain.json"
    subprocess.run([*MCUSIM, "run", str(elf), "--json", str(out), *extra], cwd=ROOT,
                   timeout=60, capture_output=True)
    return json.loads(out.read_text())


def _values(text: str, pattern: str) -> list[int]:
    return [int(v, 0) for v in re.findall(pattern, text)]


@needs_gdb
def test_break_read_cycles_step_continue_to_exit(kernels, tmp_path):
    elf = kernels / "nucleo-f446re" / "calltree.elf"
    out, code, err, result = debug(elf, [
        "break leaf", "continue",
        "print sink", "print/x &t0", "print t0",
        "x/1wx 0xE0001004", "print $cycles",
        "stepi", "x/1wx 0xE0001004", "print $cycles", "info registers pc xpsr",
        "step", "print x",
        # halted before stop_trigger's load of DWT_CYCCNT, then that load's own sample
        "delete", "break *(stop_trigger+2)", "continue", "x/1wx 0xE0001004", "stepi 3",
        "print t1", "delete", "continue",
    ], tmp_path)
    assert "Breakpoint 1, leaf (x=x@entry=0)" in out, out
    assert "$1 = 0" in out  # sink
    t0 = _values(out, r"\$3 = (\d+)")[0]
    assert 0 < t0 < 1000  # start_trigger's CYCCNT sample, early in main
    cyccnt = _values(out, r"0xe0001004:\s+(0x[0-9a-f]+)")
    cycles = _values(out, r"\$(?:4|5) = (\d+)")
    assert len(cyccnt) == 3 and len(cycles) == 2
    assert cyccnt[0] > t0 and cyccnt[1] > cyccnt[0]
    assert cyccnt[1] - cyccnt[0] == cycles[1] - cycles[0] > 0  # one instruction's cycles
    assert re.search(r"pc\s+0x8000232\s+0x8000232 <leaf\+2>", out), out
    t1 = _values(out, r"\$7 = (\d+)")[0]
    assert 0 <= t1 - cyccnt[2] <= 2  # the load samples the counter within its own cycles
    assert "xpsr" in out
    assert "[Inferior 1 (Remote target) exited normally]" in out
    assert "mcusim: the program exited with code 0 after" in out  # summary in GDB's console
    assert code == 0
    assert "GDB connected from 127.0.0.1" in err and "instructions" in err
    # Debugging never changes what runs: same counts as without GDB.
    plain = reference(elf, tmp_path)
    assert (result["instructions"], result["cycles"]) == (plain["instructions"],
                                                         plain["cycles"])


@needs_gdb
def test_watchpoint_then_detach_runs_to_the_end(kernels, tmp_path):
    elf = kernels / "nucleo-f446re" / "calltree.elf"
    out, code, err, result = debug(elf, [
        # a read watchpoint set mid-run sees the next read, in code translated before it
        "break leaf", "continue", "rwatch sink", "delete 1", "continue", "info registers pc",
        "delete", "watch t1", "continue", "print t1 - t0", "monitor cycles", "detach",
    ], tmp_path, extra=("--profile",))
    assert "Hardware read watchpoint 2: sink" in out and "Value = 0" in out
    assert re.search(r"pc\s+0x8000234\s+0x8000234 <leaf\+4>", out), out  # after the ldr
    assert "Hardware watchpoint 3: t1" in out
    assert "Old value = 0" in out and re.search(r"New value = \d+", out)
    assert "in stop_trigger ()" in out
    # the difference the program prints (it times itself with DWT_CYCCNT)
    from mcusim.sim.check.measure import run_firmware

    printed = re.search(r"cycles: (\d+)", run_firmware(elf, "nucleo-f446re").stdout).group(1)
    assert re.search(rf"\$1 = {printed}\b", out), out
    assert re.search(r"cycles [\d,]+, instructions [\d,]+ before pc 0x", out)
    assert code == 0
    assert "mcusim: GDB detached at stop_trigger" in err
    assert "exit code" in err and "instructions" in err  # the summary
    # With the profiler observing too, the whole result equals a run without GDB.
    assert result == reference(elf, tmp_path, extra=("--profile",))


@needs_gdb
def test_exit_code_reaches_gdb_and_mcusim(kernels, tmp_path):
    elf = kernels / "nucleo-f446re" / "hello.elf"
    out, code, _, result = debug(elf, ["continue"], tmp_path)
    assert "[Inferior 1 (Remote target) exited with code 03]" in out, out
    assert code == 3 and result["exit_code"] == 3


def test_gdb_address_is_loopback_unless_a_host_is_given(capsys):
    assert parse_address("1234") == ("127.0.0.1", 1234)
    assert parse_address("0.0.0.0:3333") == ("0.0.0.0", 3333)
    assert main(["run", "nothing.elf", "--gdb", "70000"]) == 64
    assert "expected PORT or HOST:PORT" in capsys.readouterr().err
    from mcusim.base.errors import UsageError

    with pytest.raises(UsageError):
        parse_address("abc")
