"""GDB's packets while the target is stopped (the subset GDB needs for an embedded target)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mcusim.sim.gdb.rsp import INTERRUPT
from mcusim.sim.gdb.target import TARGET_XML

if TYPE_CHECKING:
    from mcusim.sim.gdb.stub import GdbServer
    from mcusim.sim.result import RunResult

_SUPPORTED = b"PacketSize=4000;qXfer:features:read+;QStartNoAckMode+;vContSupported+"


def end_summary(result: RunResult) -> str:
    how = (f"exited with code {result.exit_code}" if result.exit_code is not None
           else f"stopped: {result.stop.replace('_', ' ')}"
           + (f": {result.fault.message}" if result.fault else ""))
    return (f"mcusim: the program {how} after {result.instructions:,} instructions, "
            f"{result.cycles:,} cycles ({result.seconds * 1e6:,.1f} us at "
            f"{result.clock_hz / 1e6:g} MHz)")


def _hex_int(text: bytes) -> int:
    return int(text, 16)


def _xfer(data: str, annex: bytes) -> bytes:
    offset, length = (int(x, 16) for x in annex.split(b","))
    chunk = data.encode()[offset:offset + length]
    return (b"l" if offset + length >= len(data.encode()) else b"m") + chunk


def _monitor(server: GdbServer, command: str) -> str:
    pc = server.current_pc()
    cycles, instructions = server.target.counters(pc)
    if command.strip() in ("cycles", "counters", ""):
        return (f"cycles {cycles:,}, instructions {instructions:,} before pc {pc:#010x} "
                f"({cycles / server.sim.board.clock_hz * 1e6:,.3f} us at the board clock)\n")
    return f"unknown monitor command {command.strip()!r}; try: monitor cycles\n"


def serve(server: GdbServer, stop_reply: str, send_first: bool) -> None:
    """Answer GDB until it resumes the target (continue, step), detaches or kills it."""
    conn = server.conn
    assert conn is not None
    if send_first:
        conn.send(stop_reply.encode())
    while True:
        packet = conn.read_packet()
        if packet == INTERRUPT:
            conn.send(stop_reply.encode())
            continue
        reply = _answer(server, packet, stop_reply)
        if reply is None:
            return  # resumed (or detached / killed)
        conn.send(reply)
        if packet == b"QStartNoAckMode":
            conn.ack = False


def _answer(server: GdbServer, packet: bytes, stop_reply: str) -> bytes | None:
    """The reply to `packet`, or None when GDB resumed, detached or killed the target; a
    malformed packet gets an error reply, never ends the run."""
    try:
        return _dispatch(server, packet, stop_reply)
    except (ValueError, IndexError, UnicodeDecodeError):
        return b"E01"


def _dispatch(server: GdbServer, packet: bytes, stop_reply: str) -> bytes | None:
    target = server.target
    head = packet[:1]
    if packet == b"?":
        return stop_reply.encode()
    if packet.startswith(b"qSupported"):
        return _SUPPORTED
    if packet == b"QStartNoAckMode":
        return b"OK"
    if packet.startswith(b"qXfer:features:read:target.xml:"):
        return _xfer(TARGET_XML, packet.split(b":", 4)[4])
    if packet == b"qAttached":
        return b"1"
    if packet == b"qC":
        return b"QC1"
    if packet == b"qfThreadInfo":
        return b"m1"
    if packet == b"qsThreadInfo":
        return b"l"
    if packet.startswith(b"qRcmd,"):
        text = bytes.fromhex(packet[6:].decode()).decode(errors="replace")
        server._console(_monitor(server, text))
        return b"OK"
    if packet.startswith(b"H") or packet.startswith(b"T"):
        return b"OK"
    if packet == b"vCont?":
        return b"vCont;c;C;s;S"
    if packet.startswith(b"vCont;"):
        action = packet[6:].split(b";")[0][:1]
        return _resume(server, step=action in (b"s", b"S"))
    if head in (b"c", b"C"):
        return _resume(server, step=False)
    if head in (b"s", b"S"):
        return _resume(server, step=True)
    if head == b"g":
        return target.all_registers().hex().encode()
    if head == b"G":
        data = bytes.fromhex(packet[1:].decode())
        try:
            for n in range(17):
                target.write_register(n, data[4 * n:4 * n + 4])
        except KeyError:
            return b"E01"
        return b"OK"
    if head == b"p":
        try:
            return target.read_register(_hex_int(packet[1:])).hex().encode()
        except KeyError:
            return b"E01"
    if head == b"P":
        number, value = packet[1:].split(b"=")
        try:
            target.write_register(_hex_int(number), bytes.fromhex(value.decode()))
        except KeyError:
            return b"E01"
        return b"OK"
    if head == b"m":
        address, length = (_hex_int(x) for x in packet[1:].split(b","))
        if length == 0:
            return b""
        data = target.read_memory(address, min(length, 0x4000))
        return b"E14" if not data else data.hex().encode()
    if head == b"M":
        where, value = packet[1:].split(b":")
        address, _length = (_hex_int(x) for x in where.split(b","))
        return b"OK" if target.write_memory(address, bytes.fromhex(value.decode())) else b"E14"
    if head in (b"Z", b"z"):
        return _breakpoint(server, head == b"Z", packet[1:])
    if head == b"D":
        server.err.print(_detach_note(server), highlight=False, soft_wrap=True)
        server.conn.send(b"OK")  # type: ignore[union-attr]
        server._detach()
        return None
    if head == b"k" or packet.startswith(b"vKill"):
        server.killed = True
        pc = server.current_pc()
        server.end_before(pc)
        server.sim._halt("limit", f"killed from GDB at "
                         f"{server.sim.firmware.symbols.describe(pc)}", pc)
        if packet.startswith(b"vKill"):
            server.conn.send(b"OK")  # type: ignore[union-attr]
        server._detach()
        return None
    return b""  # not supported: GDB falls back or does without


def _detach_note(server: GdbServer) -> str:
    pc = server.current_pc()
    cycles, instructions = server.target.counters(pc)
    where = server.sim.firmware.symbols.describe(pc)
    return (f"mcusim: GDB detached at {where} after {instructions:,} instructions, "
            f"{cycles:,} cycles; the program runs to its end")


def _resume(server: GdbServer, step: bool) -> None:
    """Continue (or step one instruction): the serve loop returns to the emulation."""
    server.stepping = step


def _breakpoint(server: GdbServer, insert: bool, spec: bytes) -> bytes:
    kind_text, address_text, length_text = spec.split(b";")[0].split(b",")[:3]
    kind, address, length = int(kind_text), _hex_int(address_text), _hex_int(length_text)
    if kind in (0, 1):
        if insert:
            server.breakpoints.add(address & ~1)
        else:
            server.breakpoints.discard(address & ~1)
        return b"OK"
    if kind in (2, 3, 4):
        if insert:
            server.add_watchpoint(kind, address, max(length, 1))
        else:
            server.remove_watchpoint(kind, address, max(length, 1))
        return b"OK"
    return b""


def serve_after_end(server: GdbServer, signal: int) -> None:
    """The program faulted: report it and let GDB look; resuming ends the process."""
    conn = server.conn
    assert conn is not None
    stop_reply = f"T{signal:02x}thread:01;"
    conn.send(stop_reply.encode())
    while True:
        packet = conn.read_packet()
        if packet == INTERRUPT:
            continue
        if packet[:1] in (b"c", b"C", b"s", b"S") or packet.startswith(b"vCont;"):
            conn.send(b"X%02x" % signal)
            return
        if packet[:1] == b"D":
            conn.send(b"OK")
            return
        if packet[:1] == b"k" or packet.startswith(b"vKill"):
            if packet.startswith(b"vKill"):
                conn.send(b"OK")
            return
        reply = _answer(server, packet, stop_reply)
        conn.send(reply if reply is not None else b"")
