"""GDB remote debugging of a simulated run: `mcusim run app.elf --gdb [PORT]`.

A small GDB Remote Serial Protocol server over the run's Unicorn core (`rsp` frames packets,
`target` answers registers and memory without disturbing the run, `stub` runs the session).
Why not the `udbserver` package: tried (0.3.0, with Unicorn 2.1), it listens on every
interface with no way to restrict it to loopback, never tells GDB that the program exited
(GDB sees "Remote connection closed"), offers only the A-profile register set (cpsr, no xpsr),
and its memory reads would go through our timed peripheral callbacks; a loopback-only
debugger with exit codes, M-profile registers and the cycle counter needs its own server.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from mcusim.sim.core.engine import Simulation
    from mcusim.sim.result import RunResult

DEFAULT_PORT = 1234  # QEMU's `-s`


def add_gdb_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--gdb", nargs="?", const=str(DEFAULT_PORT), metavar="[HOST:]PORT", type=_address,
        help=f"wait for GDB (target remote :PORT) before the first instruction; default port "
             f"{DEFAULT_PORT}, 0 picks a free one; listens on 127.0.0.1 unless HOST is given")


def _address(spec: str) -> str:
    """argparse check of --gdb's value; the value stays the text."""
    from mcusim.base.errors import UsageError

    try:
        parse_address(spec)
    except UsageError as e:
        raise argparse.ArgumentTypeError(str(e).removeprefix(f"--gdb {spec!r}: ")) from None
    return spec


def parse_address(spec: str) -> tuple[str, int]:
    from mcusim.base.errors import UsageError

    host, sep, port_text = spec.rpartition(":")
    if not sep:
        host = "127.0.0.1"
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535 or (sep and not host):
        raise UsageError(f"--gdb {spec!r}: expected PORT or HOST:PORT (port 0-65535)")
    return host, port


def debug_run(sim: Simulation, spec: str, err: Console) -> RunResult:
    """Run `sim` under GDB's control (`--gdb`)."""
    from mcusim.base.errors import OutputError
    from mcusim.sim.gdb.stub import GdbServer

    host, port = parse_address(spec)
    try:
        server = GdbServer(sim, host, port, err)
    except OSError as e:  # the debugger's endpoint cannot be made: exit 73, as for a file
        hint = "; give another port, or --gdb 0 for a free one" if port else ""
        raise OutputError(f"--gdb {spec}: cannot listen on {host}:{port}: {e.strerror}{hint}"
                          ) from None
    return server.run()
