"""Start the real application under gunicorn, on a port the kernel picks, for tests that
need several worker processes (what one test process never shows)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import requests

from p2pbank.config import Config
from p2pbank.db import Base, make_engine
from p2pbank.identity import services as identity
from p2pbank.models import load_all

REPO = Path(__file__).resolve().parents[2]
LISTENING = re.compile(r"Listening at: http://127\.0\.0\.1:(\d+)")
# Nothing from the developer's or the suite's environment leaks into the server.
_CLEARED = (
    "SECRET_KEY",
    "DATABASE_URL",
    "REDIS_URL",
    "RATELIMIT_STORAGE_URI",
    "P2PBANK_ENV",
    "INSTANCE_PATH",
    "GUNICORN_CMD_ARGS",
    "WEB_CONCURRENCY",
)


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    error_log: Path
    access_log: Path

    def log_text(self) -> str:
        return self.error_log.read_text(errors="replace")


def prepare_instance(folder: Path) -> dict[str, str]:
    """A fresh instance folder with an SQLite database at the models' schema; returns the
    environment that points the server at it (development, no SECRET_KEY)."""
    folder.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{folder / 'p2pbank.sqlite3'}"
    load_all()
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    engine.dispose()
    return {
        "P2PBANK_ENV": "development",
        "INSTANCE_PATH": str(folder),
        "DATABASE_URL": url,
        "ARGON2_COST": "test",
    }


def add_member(env: dict[str, str], email: str, password: str, name: str = "Member") -> None:
    """Sign a member up through the identity service, with a setup-only app (its explicit
    SECRET_KEY keeps it from writing the instance folder's key before the server does)."""
    from p2pbank.app import create_app

    config = Config(
        ENV="development",
        SECRET_KEY="setup-only-secret-never-served-0123456789",
        INSTANCE_PATH=env["INSTANCE_PATH"],
        DATABASE_URL=env.get("DATABASE_URL", ""),
        ARGON2_COST="test",
    ).finish()
    app = create_app(config)
    session = app.extensions["p2pbank.sessionmaker"]()
    try:
        identity.sign_up(
            session, email=email, display_name=name, password=password, roles=["lender"]
        )
        session.commit()
    finally:
        session.close()
        app.extensions["p2pbank.engine"].dispose()


@contextmanager
def gunicorn(
    env: dict[str, str],
    logs: Path,
    *args: str,
    ready_path: str = "/healthz",
    timeout: float = 120.0,
) -> Iterator[Server]:
    """Run `gunicorn *args wsgi:app` bound to 127.0.0.1:0 until the block ends. The
    timeout is generous: each worker imports the whole application (seconds of CPU)."""
    logs.mkdir(parents=True, exist_ok=True)
    error_log, access_log = logs / "error.log", logs / "access.log"
    full_env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    full_env.update(env)
    full_env["PYTHONPATH"] = str(REPO)
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "--bind",
        "127.0.0.1:0",
        "--error-logfile",
        str(error_log),
        "--access-logfile",
        str(access_log),
        "--access-logformat",
        "%(p)s %(m)s %(U)s %(s)s",
        "--no-control-socket",
        *args,
        "wsgi:app",
    ]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=full_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        server = Server(_wait_for_port(process, error_log, timeout), process, error_log, access_log)
        _wait_until_ready(server, ready_path, timeout)
        yield server
    finally:
        _stop(process)


def _wait_for_port(process: subprocess.Popen, error_log: Path, timeout: float) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        text = error_log.read_text(errors="replace") if error_log.exists() else ""
        found = LISTENING.search(text)
        if found:
            return f"http://127.0.0.1:{found.group(1)}"
        if process.poll() is not None:
            raise RuntimeError(f"gunicorn exited ({process.returncode}):\n{text}")
        time.sleep(0.05)
    raise RuntimeError("gunicorn did not start listening in time")


def _wait_until_ready(server: Server, path: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if requests.get(server.url + path, timeout=5).status_code < 500:
                return
        except requests.RequestException:
            pass
        if server.process.poll() is not None:
            raise RuntimeError(f"gunicorn exited:\n{server.log_text()}")
        time.sleep(0.1)
    raise RuntimeError(f"{path} never answered:\n{server.log_text()}")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGINT)  # quick shutdown
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def worker_pids(server: Server) -> set[str]:
    """The worker processes that answered, from the access log's first column."""
    lines = server.access_log.read_text().splitlines() if server.access_log.exists() else []
    return {line.split()[0] for line in lines if line.strip()}


def csrf_token(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "no CSRF token in the form"
    return found.group(1)
