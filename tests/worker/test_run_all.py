"""`flask run-all` (what `make run` ends with) starts web, worker and beat on the embedded
filesystem broker; the worker's heartbeat makes /readyz answer 200; one SIGINT (Ctrl-C)
stops all three and the command exits 0."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import urllib.request

import pytest

from tests.support.database import database_url_for_run
from tests.worker import support

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=3) as answer:  # noqa: S310
            return answer.status == 200 and json.load(answer)["checks"]["worker"]["ok"]
    except OSError:
        return False


def test_run_all_serves_works_and_stops_on_one_ctrl_c(tmp_path):
    url, drop = support.fresh_database(database_url_for_run(), tmp_path)
    env = support.worker_env(url, "", tmp_path / "instance", FLASK_APP="wsgi")
    env.pop("CELERY_BROKER_URL")
    env.pop("REDIS_URL", None)
    port = _free_port()
    log = (tmp_path / "run-all.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "flask", "run-all", "--bind", f"127.0.0.1:{port}",
         "--concurrency", "1"],
        env=env, cwd=support.ROOT, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        support.wait_for(lambda: _ready(port), 90, "/readyz 200 with the worker's heartbeat")
        children = _children(process.pid)
        assert len(children) == 3  # gunicorn, the worker and beat
        process.send_signal(signal.SIGINT)
        assert process.wait(40) == 0
    finally:
        support.stop(process, signal.SIGKILL)
        log.close()
        drop()
    assert [pid for pid in children if _alive(pid)] == [], "a child of run-all outlived it"


def _children(pid: int) -> list[int]:
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True)  # noqa: S603, S607
    return [int(line) for line in found.stdout.split()]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False
