"""gunicorn settings: `gunicorn -c python:p2pbank.gunicorn_conf wsgi:app` (`make run` does).

gunicorn's synchronous workers serve one connection each and wait as long as a client takes
to send its request, so a handful of clients trickling a body a byte at a time hold every
worker (a "slowloris"). gunicorn's documentation answers with a buffering proxy in front
(nginx reads the whole request before passing it on) or with a worker class that slow
clients cannot exhaust. Production should have the proxy; this configuration is the second
line of defence and what `make run` uses:

- threaded workers (gthread): a slow client holds one thread, not a process, and idle
  kept-alive connections wait in the worker's poller without any thread; a process whose
  threads are all busy stops accepting, so another process takes the next connection;
- a read deadline per request (P2PBANK_REQUEST_READ_TIMEOUT seconds, default 30): a
  request whose line, headers and body have not arrived by then is cut off, so a slow
  client gives its thread back; the application sees a truncated body and answers 400;
- limits on the request line and headers, a worker timeout, and workers recycled after a
  number of requests.

Environment: WEB_CONCURRENCY (processes, default 2), GUNICORN_THREADS (threads per
process, default 8), P2PBANK_REQUEST_READ_TIMEOUT. Command-line options override all.
"""

from __future__ import annotations

import heapq
import itertools
import os
import socket
import threading
import time

from gunicorn.workers.gthread import ThreadWorker


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name, "")
    try:
        return float(raw) if raw else default
    except ValueError:
        raise SystemExit(f"{name} must be a number of seconds or a count, not {raw!r}") from None


REQUEST_READ_TIMEOUT = _env_number("P2PBANK_REQUEST_READ_TIMEOUT", 30.0)

bind = "127.0.0.1:5000"
workers = int(_env_number("WEB_CONCURRENCY", 2))
threads = int(_env_number("GUNICORN_THREADS", 8))
worker_class = "p2pbank.gunicorn_conf.ReadDeadlineWorker"
worker_connections = 200  # open connections per process, kept-alive ones included
timeout = 30  # a process that stops reporting for this long is replaced
graceful_timeout = 20
keepalive = 5
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
max_requests = 5000
max_requests_jitter = 500


class ReadDeadlines:
    """One thread per worker process that cuts off requests past their deadline.

    Cutting means shutting the read side of the socket: a thread blocked reading it wakes
    up at once with end-of-file, and the answer can still be written."""

    def __init__(self, log) -> None:
        self._log = log
        self._cond = threading.Condition()
        self._heap: list[tuple[float, int]] = []
        self._armed: dict[int, object] = {}
        self._tokens = itertools.count()
        self._thread = threading.Thread(target=self._run, name="read-deadlines", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def arm(self, conn, seconds: float) -> int:
        """Watch `conn` (gunicorn's connection; its socket is read at cut time, as TLS
        may have replaced it) for `seconds`; returns a token for `disarm`."""
        token = next(self._tokens)
        with self._cond:
            self._armed[token] = conn
            heapq.heappush(self._heap, (time.monotonic() + seconds, token))
            if self._heap[0][1] == token:
                self._cond.notify()
        return token

    def disarm(self, token: int) -> None:
        """After this returns the connection is never cut for this token."""
        with self._cond:
            self._armed.pop(token, None)

    def _run(self) -> None:
        with self._cond:
            while True:
                now = time.monotonic()
                while self._heap and self._heap[0][0] <= now:
                    _deadline, token = heapq.heappop(self._heap)
                    conn = self._armed.pop(token, None)
                    if conn is not None:
                        self._cut(conn)
                wait = self._heap[0][0] - now if self._heap else None
                self._cond.wait(wait)

    def _cut(self, conn) -> None:
        try:
            conn.sock.shutdown(socket.SHUT_RD)
        except OSError:
            return  # already closed
        self._log.warning(
            "request from %s not received within %.0f s: cut off",
            getattr(conn, "client", "?"),
            REQUEST_READ_TIMEOUT,
        )


class ReadDeadlineWorker(ThreadWorker):
    """gunicorn's threaded worker with a deadline on reading each request, which accepts
    new connections only while it has a free thread.

    The plain threaded worker accepts whenever it has room for connections and queues
    them behind busy threads; a process whose threads all wait for slow clients would
    then take connections that a sibling process could serve at once. Here such a process
    leaves them in the listening socket's backlog for the others."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.in_pool = 0  # connections handed to the thread pool, not finished (main thread)

    def enqueue_req(self, conn) -> None:
        self.in_pool += 1
        super().enqueue_req(conn)

    def finish_request(self, conn, fs) -> None:
        self.in_pool -= 1
        super().finish_request(conn, fs)

    def set_accept_enabled(self, enabled: bool) -> None:
        super().set_accept_enabled(enabled and self.in_pool < self.cfg.threads)

    def accept(self, listener) -> None:
        super().accept(listener)
        if self.in_pool >= self.cfg.threads:
            self.set_accept_enabled(False)

    def init_process(self) -> None:
        self.read_deadlines = ReadDeadlines(self.log)
        self.read_deadlines.start()
        super().init_process()

    def handle(self, conn):
        token = self.read_deadlines.arm(conn, REQUEST_READ_TIMEOUT)
        try:
            return super().handle(conn)
        finally:
            self.read_deadlines.disarm(token)
