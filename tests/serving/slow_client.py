"""A client that sends a request body one byte at a time (a "slowloris"), for the tests and
the benchmark of the served configuration."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import urlsplit

BODY_LENGTH = 1000


class SlowClient(threading.Thread):
    """POSTs to `path` with a declared body of BODY_LENGTH bytes, sending one byte every
    `interval` seconds until the server answers or closes, or `give_up` seconds pass."""

    def __init__(self, url: str, path: str, interval: float, give_up: float = 60.0) -> None:
        super().__init__(daemon=True)
        parts = urlsplit(url)
        self.address = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.path, self.interval, self.give_up = path, interval, give_up
        self.connected = threading.Event()
        self.bytes_sent = 0
        self.answer = b""
        self.ended_at: float | None = None  # when the server answered or closed

    def run(self) -> None:
        with socket.create_connection(self.address, timeout=self.give_up) as sock:
            head = (
                f"POST {self.path} HTTP/1.1\r\nHost: {self.address[0]}\r\n"
                "Content-Type: application/json\r\nStripe-Signature: t=1,v1=00\r\n"
                f"Content-Length: {BODY_LENGTH}\r\n\r\n"
            )
            sock.sendall(head.encode())
            self.connected.set()
            sock.setblocking(False)
            started = time.monotonic()
            while self.bytes_sent < BODY_LENGTH and time.monotonic() - started < self.give_up:
                if self._server_spoke(sock):
                    return
                try:
                    sock.send(b" ")
                except OSError:
                    self.ended_at = time.monotonic()
                    return
                self.bytes_sent += 1
                time.sleep(self.interval)

    def _server_spoke(self, sock: socket.socket) -> bool:
        try:
            data = sock.recv(65536)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        self.answer += data
        self.ended_at = time.monotonic()
        return True

    @property
    def still_connected(self) -> bool:
        return self.connected.is_set() and self.ended_at is None
