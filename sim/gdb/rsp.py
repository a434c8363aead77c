"""GDB Remote Serial Protocol framing: `$data#checksum` packets over a TCP connection."""

from __future__ import annotations

import contextlib
import select
import socket
from collections.abc import Callable

INTERRUPT = b"\x03"


class ConnectionClosed(Exception):
    """GDB went away."""


class Cancelled(Exception):
    """The run is ending (a signal stopped it) while we waited for GDB."""


WAIT_SLICE = 0.2  # seconds between looks at whether the run was stopped while waiting


def wait_readable(sock: socket.socket, cancelled: Callable[[], bool]) -> None:
    """Block until `sock` has data (or a connection), unless the run gets cancelled."""
    while True:
        try:
            readable, _, _ = select.select([sock], [], [], WAIT_SLICE)
        except (OSError, ValueError) as e:
            raise ConnectionClosed(str(e)) from None
        if readable:
            return
        if cancelled():
            raise Cancelled


def checksum(data: bytes) -> bytes:
    return b"%02x" % (sum(data) & 0xFF)


def escape(data: bytes) -> bytes:
    """Binary data of a reply: '#', '$', '}' and '*' are escaped as '}' + (byte ^ 0x20)."""
    out = bytearray()
    for b in data:
        if b in b"#$}*":
            out += bytes([0x7D, b ^ 0x20])
        else:
            out.append(b)
    return bytes(out)


def unescape(data: bytes) -> bytes:
    out, i = bytearray(), 0
    while i < len(data):
        if data[i] == 0x7D and i + 1 < len(data):
            out.append(data[i + 1] ^ 0x20)
            i += 2
        else:
            out.append(data[i])
            i += 1
    return bytes(out)


class Connection:
    """One GDB client. Acknowledgements are sent and expected until QStartNoAckMode."""

    def __init__(self, sock: socket.socket, cancelled: Callable[[], bool] = lambda: False):
        self.sock = sock
        self.cancelled = cancelled
        self.ack = True
        self._buffer = b""

    def _fill(self) -> None:
        wait_readable(self.sock, self.cancelled)
        try:
            chunk = self.sock.recv(65536)
        except OSError as e:
            raise ConnectionClosed(str(e)) from None
        if not chunk:
            raise ConnectionClosed("GDB closed the connection")
        self._buffer += chunk

    def read_packet(self) -> bytes:
        """The next packet's payload; a ^C outside a packet is returned as INTERRUPT."""
        while True:
            start = self._buffer.find(b"$")
            if INTERRUPT in self._buffer[:start if start >= 0 else len(self._buffer)]:
                self._buffer = self._buffer.replace(INTERRUPT, b"", 1)
                return INTERRUPT
            if start >= 0:
                end = self._buffer.find(b"#", start)
                if end >= 0 and len(self._buffer) >= end + 3:
                    data = self._buffer[start + 1:end]
                    given = self._buffer[end + 1:end + 3]
                    self._buffer = self._buffer[end + 3:]
                    if self.ack:
                        self._send_raw(b"+" if given.lower() == checksum(data) else b"-")
                    if not self.ack or given.lower() == checksum(data):
                        return unescape(data)
                    continue
            self._fill()

    def poll_interrupt(self) -> bool:
        """Whether GDB sent ^C since the last look (without blocking, while the program
        runs); ConnectionClosed if GDB went away."""
        try:
            readable, _, _ = select.select([self.sock], [], [], 0)
        except (OSError, ValueError):
            return False
        if readable:
            self._fill()
        if INTERRUPT in self._buffer:
            self._buffer = self._buffer.replace(INTERRUPT, b"", 1)
            return True
        return False

    def send(self, payload: bytes) -> None:
        self._send_raw(b"$" + payload + b"#" + checksum(payload))
        # GDB acknowledges with '+' (or '-' to ask again); read_packet skips stray acks.

    def _send_raw(self, data: bytes) -> None:
        try:
            self.sock.sendall(data)
        except OSError as e:
            raise ConnectionClosed(str(e)) from None

    def close(self) -> None:
        """Close after GDB has read everything: closing with its acknowledgements still unread
        would reset the connection, and a reset can discard our last reply on GDB's side."""
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_WR)
            self.sock.settimeout(1.0)
            while self.sock.recv(4096):
                pass
        with contextlib.suppress(OSError):
            self.sock.close()
