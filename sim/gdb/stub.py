"""The debugging session: GDB's commands while the simulated core is stopped, and the stops.

The run itself is the normal one: the accounting hooks see the same blocks, so breakpoints,
stepping and memory reads leave instructions and cycles unchanged. Stopping works from one
instruction hook over all code (Unicorn only calls hooks that existed when a block was
translated, so a breakpoint set later, or a single step inside a block already translated,
needs a hook everywhere from the start); it checks a set and a flag and returns, which makes a
run under --gdb slower, not different. Watchpoints likewise use one memory hook over all
memory, there from the start.
"""

from __future__ import annotations

import ctypes
import socket
from typing import TYPE_CHECKING

import unicorn.arm_const as arm
from rich.console import Console
from unicorn import UC_HOOK_CODE, UC_HOOK_MEM_READ, UC_HOOK_MEM_WRITE, UC_MEM_WRITE

from mcusim.sim.core.uc_api import add_hook
from mcusim.sim.gdb.rsp import Cancelled, Connection, ConnectionClosed, wait_readable
from mcusim.sim.gdb.session import end_summary, serve, serve_after_end
from mcusim.sim.gdb.target import DebugTarget

if TYPE_CHECKING:
    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.result import RunResult

SIGINT, SIGILL, SIGTRAP, SIGABRT, SIGSEGV, SIGXCPU = 2, 4, 5, 6, 11, 24
_FAULT_SIGNAL = {"memory_fault": SIGSEGV, "undefined_instruction": SIGILL,
                 "escalated_fault": SIGABRT, "limit": SIGXCPU, "reset": SIGABRT}
# Stops that end mcusim itself (a signal to mcusim, not to the program): GDB is told the
# process was terminated, and nothing waits for it.
_ENDED_BY_SIGNAL = {"interrupted": SIGINT, "terminated": 15}
_CODE_HOOK = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_uint64, ctypes.c_uint32)
POLL_EVERY = 1 << 16  # instructions between looks for GDB's ^C while running


class GdbServer:
    """Listens on `host:port` (loopback unless asked otherwise) and debugs one run."""

    def __init__(self, sim: Simulation, host: str, port: int, err: Console):
        self.sim = sim
        self.target = DebugTarget(sim)
        self.err = err
        self.listener = socket.create_server((host, port))
        self.address = self.listener.getsockname()[:2]
        self.conn: Connection | None = None
        self.breakpoints: set[int] = set()
        self.watchpoints: set[tuple[int, int, int]] = set()  # (Z kind, first, last address)
        self.stepping = False
        self.detached = False
        self.killed = False
        self._watch_hit: tuple[str, int] | None = None
        self._started = False
        self._countdown = POLL_EVERY
        self._error: BaseException | None = None
        self._callbacks: list[object] = []
        self._hook = self._c_hook(UC_HOOK_CODE, self._on_instruction, 1, 0)
        # Memory hooks, like code hooks, only reach blocks translated after they exist: one
        # over everything from the start lets a watchpoint set at any time see every access.
        self._watch_hook = self._c_hook(UC_HOOK_MEM_READ | UC_HOOK_MEM_WRITE, self._on_access,
                                        1, 0)

    def _c_hook(self, kind: int, function: object, begin: int, end: int) -> int:
        if kind == UC_HOOK_CODE:
            callback = _CODE_HOOK(function)
        else:  # memory hooks: (engine, access, address, size, value, user data)
            callback = ctypes.CFUNCTYPE(None, ctypes.c_void_p, ctypes.c_int, ctypes.c_uint64,
                                        ctypes.c_int, ctypes.c_int64)(function)
        self._callbacks.append(callback)
        return add_hook(self.sim.uc, kind, ctypes.cast(callback, ctypes.c_void_p).value, None,
                        begin, end)

    # -- the run --------------------------------------------------------------------------
    def run(self) -> RunResult:
        try:
            result = self.sim.run()
            self.target.finished = True
            if self.conn is not None:
                self.conn.cancelled = lambda: False  # the run is over: GDB may look at it
            if self._error is not None:
                raise self._error
            if self.conn is not None and not self.detached:
                self._report_end(result)
        finally:
            if self.conn is not None:
                self.conn.close()
            self.listener.close()
        return result

    def _guard(self, work: object) -> None:
        """Run `work()` inside a Unicorn callback: nothing may unwind through C, so an error
        (or Ctrl-C) stops the emulation and is raised again after it."""
        try:
            work()  # type: ignore[operator]
        except Cancelled:
            self._detach()  # a signal stopped the run: it ends with its summary
            self.end_before(self.current_pc())
            self.sim.stop_now()
        except ConnectionClosed:
            self._lost()
        except BaseException as e:  # noqa: BLE001 - re-raised after the run
            self._error = e
            self.sim.uc.emu_stop()

    def _on_instruction(self, _engine: object, address: int, _size: int) -> None:
        if self.detached:
            return
        if not self._started or self.stepping or address in self.breakpoints:
            if self._pending_restart():
                return  # the block is about to be run again from its start: stop then
            if not self._started:
                self._started = True
                self._guard(lambda: self._first_stop(address))
            else:
                self._guard(lambda: self._stop(address))
            return
        self._countdown -= 1
        if self._countdown <= 0:
            self._countdown = POLL_EVERY
            if self.conn is not None:
                self._guard(lambda: self._poll(address))

    def _poll(self, address: int) -> None:
        assert self.conn is not None
        if self.conn.poll_interrupt():
            self._stop(address, SIGINT)

    def _pending_restart(self) -> bool:
        """Whether the emulation is stopping: the engine restarts a block it has just
        instrumented before it runs (Simulation._instrument), or the run is ending. Unicorn
        2.1 calls no code hook after such a stop (checked); were it to, stopping there would
        show GDB the same instruction twice."""
        return getattr(self.sim, "_restart_at", None) is not None or \
            getattr(self.sim, "_stop", None) is not None

    def _on_access(self, _engine: object, access: int, address: int, size: int,
                   _value: int) -> None:
        """Stops before a watched access completes, as Arm watchpoints do: GDB then steps
        over the instruction and compares the old and new values."""
        if not self.watchpoints or self.detached or self._pending_restart():
            return
        write = access == UC_MEM_WRITE
        last = address + max(size, 1) - 1
        for kind, lo, hi in self.watchpoints:
            if address <= hi and last >= lo and (kind == 4 or (kind == 2) == write):
                self._watch_hit = ("watch" if kind == 2 else "rwatch" if kind == 3
                                   else "awatch", max(address, lo))
                self._guard(lambda: self._stop(self.current_pc()))
                return

    def _cancelled(self) -> bool:
        """A signal to mcusim (Ctrl-C, SIGTERM, --timeout) ends the wait for GDB: the Python
        handler has stopped the run, or the native path's C handler has recorded it (then
        _guard's stop_now() makes it the run's stop, as on the Python path)."""
        return self.sim.stop_pending()

    def _first_stop(self, address: int) -> None:
        # Said from inside the run, so that the run's signal handlers are in place by then.
        host, port = self.address
        self.err.print(f"mcusim: waiting for GDB on {host}:{port} (in GDB: target remote "
                       f"{host}:{port})", highlight=False, soft_wrap=True)
        wait_readable(self.listener, self._cancelled)
        sock, peer = self.listener.accept()
        self.conn = Connection(sock, self._cancelled)
        self.err.print(f"mcusim: GDB connected from {peer[0]}:{peer[1]}", highlight=False,
                       soft_wrap=True)
        self._serve(f"T{SIGTRAP:02x}thread:01;")

    def _stop(self, address: int, signal: int = SIGTRAP) -> None:
        self.stepping = False
        reply = f"T{signal:02x}"
        if self._watch_hit is not None:
            kind, where = self._watch_hit
            self._watch_hit = None
            reply += f"{kind}:{where:x};"
        self._serve(reply + "thread:01;", send_first=True)

    def end_before(self, pc: int) -> None:
        """The run ends at `pc`, whose instruction has not run (GDB killed the program there,
        or a signal came while it was halted): its block, charged whole when it was entered,
        keeps only its part before `pc`, the figures `monitor cycles` gave."""
        sim = self.sim
        block = sim.current_block
        if block is not None and block.address <= pc < block.address + block.size:
            sim._take_back(block, block.count_before(pc))

    def _lost(self) -> None:
        self.err.print("mcusim: the GDB connection was lost; the program runs to its end",
                       highlight=False, soft_wrap=True)
        self._detach()

    def _detach(self) -> None:
        self.detached = True
        self.stepping = False
        self.breakpoints.clear()
        self.watchpoints.clear()
        if self.conn is not None:
            self.conn.close()

    def _report_end(self, result: RunResult) -> None:
        """The program ended while GDB waited: say how, with the run's summary."""
        assert self.conn is not None
        try:
            self._console(end_summary(result) + "\n")
            if result.exit_code is not None:
                self.conn.send(b"W%02x" % (result.exit_code & 0xFF))
                return
            if self.killed:
                return
            if result.stop in _ENDED_BY_SIGNAL:
                self.conn.send(b"X%02x" % _ENDED_BY_SIGNAL[result.stop])
                return
            # A fault: GDB may look at the state where it happened, then the process is gone.
            serve_after_end(self, _FAULT_SIGNAL.get(result.stop, SIGABRT))
        except ConnectionClosed:
            pass

    def _console(self, text: str) -> None:
        assert self.conn is not None
        self.conn.send(b"O" + text.encode().hex().encode())

    def _serve(self, stop_reply: str, send_first: bool = False) -> None:
        serve(self, stop_reply, send_first)

    def current_pc(self) -> int:
        return self.sim.uc.reg_read(arm.UC_ARM_REG_PC)

    def add_watchpoint(self, kind: int, address: int, length: int) -> None:
        self.watchpoints.add((kind, address, address + length - 1))

    def remove_watchpoint(self, kind: int, address: int, length: int) -> None:
        self.watchpoints.discard((kind, address, address + length - 1))
