"""The --gdb stub spoken to directly over the remote protocol (no GDB needed): faults, ^C,
kill, acknowledgements. Sockets and processes all have timeouts."""

from __future__ import annotations

import contextlib
import signal
import socket
import subprocess
import sys
import time

import pytest

from .asm import EXIT_OK, build
from .conftest import ROOT
from .test_gdb import MCUSIM, _wait_for_port


class Client:
    def __init__(self, port: int):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=20)
        self.buffer = b""

    def send(self, payload: bytes) -> None:
        self.sock.sendall(b"$%s#%02x" % (payload, sum(payload) & 0xFF))

    def reply(self) -> bytes:
        """The next packet (acks skipped), checksum verified; console (O) packets skipped."""
        while True:
            start = self.buffer.find(b"$")
            end = self.buffer.find(b"#", start)
            if start >= 0 and end >= 0 and len(self.buffer) >= end + 3:
                data, check = self.buffer[start + 1:end], self.buffer[end + 1:end + 3]
                self.buffer = self.buffer[end + 3:]
                assert int(check, 16) == sum(data) & 0xFF
                with contextlib.suppress(OSError):  # the stub may be gone after its last reply
                    self.sock.sendall(b"+")
                if data.startswith(b"O") and data != b"OK":
                    continue
                return data
            chunk = self.sock.recv(4096)
            assert chunk, "the stub closed the connection"
            self.buffer += chunk

    def ask(self, payload: bytes) -> bytes:
        self.send(payload)
        return self.reply()


@pytest.fixture
def stub(tmp_path):
    procs = []

    def start(body: str, connect: bool = True) -> tuple[Client | None, subprocess.Popen]:
        elf = build(tmp_path, body)
        proc = subprocess.Popen([*MCUSIM, "run", str(elf), "--gdb", "0"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        procs.append(proc)
        port = _wait_for_port(proc)
        return (Client(port) if connect else None), proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)


def test_fault_stops_with_sigsegv_then_ends(stub):
    client, proc = stub("""
        movs r1, #7
        ldr r0, =0x30000000
        ldr r2, [r0]
    """ + EXIT_OK)
    assert client.ask(b"?").startswith(b"T05")
    assert client.ask(b"qSupported:multiprocess+").startswith(b"PacketSize=")
    assert client.ask(b"c").startswith(b"T0b")  # SIGSEGV: the unmapped read
    regs = bytes.fromhex(client.ask(b"g").decode())
    assert int.from_bytes(regs[4:8], "little") == 7  # r1, at the fault
    assert int.from_bytes(regs[0:4], "little") == 0x30000000
    assert client.ask(b"m30000000,4") == b"E14"  # unmapped: an error, not a crash
    assert client.ask(b"c") == b"X0b"  # the process is gone
    client.sock.close()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 80 and b"memory fault" in err


def test_interrupt_and_kill(stub):
    client, proc = stub("""
        ldr r0, =0x7fffffff
    1:  subs r0, #1
        bne 1b
    """ + EXIT_OK)
    assert client.ask(b"?").startswith(b"T05")
    assert client.ask(b"QStartNoAckMode") == b"OK"
    client.send(b"c")
    time.sleep(0.3)
    client.sock.sendall(b"\x03")  # ^C while the program runs
    assert client.reply().startswith(b"T02")
    r0 = int.from_bytes(bytes.fromhex(client.ask(b"p0").decode()), "little")
    assert 0 < r0 < 0x7fffffff  # the loop ran, and stopped
    client.send(b"c")  # runs again until the next ^C, not until the next look for one
    client.sock.settimeout(0.5)
    with pytest.raises(TimeoutError):
        client.reply()
    client.sock.settimeout(20)
    client.sock.sendall(b"\x03")
    assert client.reply().startswith(b"T02")
    r0_later = int.from_bytes(bytes.fromhex(client.ask(b"p0").decode()), "little")
    assert r0_later < r0
    cycles = int.from_bytes(bytes.fromhex(client.ask(b"p11").decode()), "little")
    assert cycles > 0
    client.send(b"k")
    client.sock.close()
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 83 and b"killed from GDB" in err


@pytest.mark.parametrize("connected", [False, True])
def test_ctrl_c_ends_mcusim_waiting_for_gdb(stub, connected):
    client, proc = stub(EXIT_OK, connect=connected)
    if client is not None:
        assert client.ask(b"?").startswith(b"T05")  # stopped: waiting for GDB's command
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=20)
    assert proc.returncode == 130 and b"interrupted" in err


def test_bad_packets_get_empty_or_error_replies(stub):
    client, proc = stub(EXIT_OK)
    assert client.ask(b"vMustReplyEmpty") == b""
    assert client.ask(b"mzz,4") == b"E01"  # malformed: an error reply, the session goes on
    assert client.ask(b"Z0,nothex,2") == b"E01"
    assert client.ask(b"p99") == b"E01"
    assert client.ask(b"P11=0100000000000000") == b"E01"  # cycles: the run's, read-only
    assert client.ask(b"Pf=00010008") == b"E01"  # moving the pc is refused
    assert client.ask(b"P1=2a000000") == b"OK"
    assert client.ask(b"p1") == b"2a000000"
    assert client.ask(b"qXfer:features:read:target.xml:0,40").startswith(b"m<?xml")
    assert client.ask(b"M20000000,4:deadbeef") == b"OK"
    assert client.ask(b"m20000000,4") == b"deadbeef"
    assert client.ask(b"me0001004,4") == b"00000000"  # DWT_CYCCNT before it is enabled
    assert client.ask(b"c") == b"W00"
    client.sock.close()
    proc.communicate(timeout=30)
    assert proc.returncode == 0


def test_port_in_use_is_a_clear_error(tmp_path):
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        done = subprocess.run([*MCUSIM, "run", str(build(tmp_path, EXIT_OK)), "--gdb",
                               str(port)], cwd=ROOT, capture_output=True, timeout=60)
    assert done.returncode == 73 and b"cannot listen on 127.0.0.1:" in done.stderr
    assert sys.executable  # the subprocess used this interpreter


def test_a_busy_port_exit_code_is_documented(tmp_path, capsys):
    """A busy --gdb port exits 73 (an output that cannot be made, as sysexits' EX_CANTCREAT),
    and the README's exit-code table and `mcusim --help` say so."""
    from mcusim.base.errors import ExitCode
    from mcusim.sim.cli import main
    from mcusim.sim.cli.common import EXIT_CODES_HELP

    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        assert main(["run", str(build(tmp_path, EXIT_OK)), "--gdb", str(port)]) \
            == ExitCode.CANT_WRITE == 73
    err = capsys.readouterr().err
    assert f"cannot listen on 127.0.0.1:{port}" in err and "--gdb 0" in err
    (row,) = [ln for ln in (ROOT / "README.md").read_text().splitlines()
              if ln.startswith("| 73 |")]
    assert "`--gdb` port" in row
    assert "73 output not writable or in the way, or the --gdb port busy" in " ".join(
        EXIT_CODES_HELP.split())


def _continue_to_end(port: int, replies: list[bytes]) -> None:
    client = Client(port)
    client.ask(b"?")
    replies.append(client.ask(b"c"))
    client.sock.close()


# cnn_chain and the memory-accounted heap_pattern/uart_hello once ran differently under the
# stub (stale IT state after an engine restart to instrument a block); rel's f2b4d70 places
# every code hook before the first emu_start, so they are ordinary cases now.
@pytest.mark.parametrize(("program", "options"), [
    ("hello", {}), ("calltree", {}), ("recurse", {}), ("fc", {}), ("heap_pattern", {}),
    ("uart_hello", {}), ("cnn_chain", {}), ("calltree", {"memory": True}),
    ("recurse", {"memory": True}), ("heap_pattern", {"memory": True}),
    ("uart_hello", {"memory": True}),
])
def test_a_run_under_the_stub_equals_the_plain_run(kernels, program, options):
    """The stub's hooks (one over all code, one over all memory) change nothing: same
    instructions, cycles, output and exit as without them, on this accounting path."""
    import io
    import threading

    from rich.console import Console

    from mcusim.memory.board import load_board
    from mcusim.sim import Firmware, MemoryOptions, ProgramIO, RunOptions, make_simulation
    from mcusim.sim.gdb.stub import GdbServer

    elf = kernels / "nucleo-f446re" / f"{program}.elf"
    runs = []
    for debug in (False, True):
        out = io.BytesIO()
        opts = RunOptions(io=ProgramIO(stdout=out, fs_root=ROOT),
                          memory=MemoryOptions() if options.get("memory") else None)
        sim = make_simulation(Firmware.open(elf), load_board("nucleo-f446re"), opts)
        if debug:
            server = GdbServer(sim, "127.0.0.1", 0, Console(file=io.StringIO()))
            replies: list[bytes] = []
            client = threading.Thread(target=_continue_to_end,
                                      args=(server.address[1], replies), daemon=True)
            client.start()
            result = server.run()
            client.join(timeout=20)
            assert replies and replies[0] == b"W%02x" % (result.exit_code & 0xFF)
        else:
            result = sim.run()
        runs.append((result.to_json_text(), out.getvalue()))
    assert runs[0] == runs[1]


@pytest.mark.parametrize("how", ["kill", "sigint"])
def test_a_run_ended_at_a_stop_counts_what_ran_before_it(stub, tmp_path, how):
    """Killed from GDB at a breakpoint in the middle of a block (or ended by Ctrl-C to mcusim
    while halted there), the run's figures counted the whole block: 3 instructions more than
    `monitor cycles` said. Now they are the instructions before the stop."""
    from elftools.elf.elffile import ELFFile

    elf = build(tmp_path, """
        movs r0, #1
        movs r1, #2
    mid:
        movs r2, #3
        movs r3, #4
        adds r0, r0, r1
    """ + EXIT_OK)
    with open(elf, "rb") as f:
        mid = next(s["st_value"] for s in ELFFile(f).get_section_by_name(".symtab")
                   .iter_symbols() if s.name == "mid")
    out = tmp_path / "r.json"
    proc = subprocess.Popen([*MCUSIM, "run", str(elf), "--gdb", "0", "--json", str(out)],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        client = Client(_wait_for_port(proc))
        assert client.ask(b"?").startswith(b"T05")
        assert client.ask(b"Z0,%x,2" % mid) == b"OK"
        assert client.ask(b"c").startswith(b"T05")
        counted = [int.from_bytes(bytes.fromhex(client.ask(b"p%x" % n).decode()), "little")
                   for n in (0x11, 0x12)]  # cycles, instructions before the breakpoint
        if how == "kill":
            client.send(b"k")
            client.sock.close()
        else:
            proc.send_signal(signal.SIGINT)
        proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    import json

    data = json.loads(out.read_text())
    assert [data["cycles"], data["instructions"]] == counted
    assert counted[1] > 0
