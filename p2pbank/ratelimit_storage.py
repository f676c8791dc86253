"""Rate-limit counters in a SQLite file, shared by every process on one machine.

Flask-Limiter's `memory://` storage counts per process: with several gunicorn workers a
brute-force limit of 5 becomes 5 per worker. Without Redis (REDIS_URL) the counters live
in `instance/ratelimits.sqlite3` instead, a file of its own so counting never waits for
the application database's write lock. Several machines need Redis (or memcached via
RATELIMIT_STORAGE_URI): a file is shared only by the processes of one machine.

URI: `p2pbank-sqlite:///absolute/path/to/file.sqlite3`. Supports the fixed-window strategy
(Flask-Limiter's default, the one this application uses).
"""

from __future__ import annotations

import os
import sqlite3
import threading
import time
from urllib.parse import urlparse

from limits.storage import Storage

SCHEME = "p2pbank-sqlite"
_CLEANUP_EVERY = 500  # increments between sweeps of expired counters
_BUSY_TIMEOUT_MS = 5000

_SCHEMA = """
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY,
    value INTEGER NOT NULL,
    expires_at REAL NOT NULL
)
"""


def storage_uri(path: str) -> str:
    """The storage URI for a counters file at `path` (made absolute)."""
    return f"{SCHEME}://{os.path.abspath(path)}"


class SQLiteStorage(Storage):
    """Fixed-window counters: one row per key, reset when its window has passed."""

    STORAGE_SCHEME = [SCHEME]

    def __init__(self, uri: str | None = None, wrap_exceptions: bool = False, **_options):
        super().__init__(uri, wrap_exceptions=wrap_exceptions)
        path = urlparse(uri or "").path
        if not path:
            raise ValueError(f"{SCHEME}:// needs a file path, e.g. {SCHEME}:///tmp/limits.db")
        self.path = path
        self._local = threading.local()
        self._increments = 0

    @property
    def base_exceptions(self) -> type[Exception]:
        return sqlite3.Error

    def _connection(self) -> sqlite3.Connection:
        """One connection per thread and per process (a forked worker opens its own)."""
        conn = getattr(self._local, "conn", None)
        if conn is not None and self._local.pid == os.getpid():
            return conn
        os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
        conn = sqlite3.connect(self.path, isolation_level=None, timeout=_BUSY_TIMEOUT_MS / 1000)
        conn.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(_SCHEMA)
        self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def incr(self, key: str, expiry: int, amount: int = 1) -> int:
        """Add `amount` in one write transaction, starting a new window when the old one
        has expired; every process sees the same count."""
        now = time.time()
        conn = self._connection()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("DELETE FROM counters WHERE key = ? AND expires_at <= ?", (key, now))
            (value,) = conn.execute(
                "INSERT INTO counters (key, value, expires_at) VALUES (?, ?, ?) "
                "ON CONFLICT (key) DO UPDATE SET value = value + excluded.value "
                "RETURNING value",
                (key, amount, now + expiry),
            ).fetchone()
            self._increments += 1
            if self._increments % _CLEANUP_EVERY == 0:
                conn.execute("DELETE FROM counters WHERE expires_at <= ?", (now,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return int(value)

    def get(self, key: str) -> int:
        row = self._connection().execute(
            "SELECT value FROM counters WHERE key = ? AND expires_at > ?", (key, time.time())
        ).fetchone()
        return int(row[0]) if row else 0

    def get_expiry(self, key: str) -> float:
        row = self._connection().execute(
            "SELECT expires_at FROM counters WHERE key = ? AND expires_at > ?",
            (key, time.time()),
        ).fetchone()
        return float(row[0]) if row else time.time()

    def check(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def reset(self) -> int | None:
        cursor = self._connection().execute("DELETE FROM counters")
        return cursor.rowcount

    def clear(self, key: str) -> None:
        self._connection().execute("DELETE FROM counters WHERE key = ?", (key,))
