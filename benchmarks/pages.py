"""Page rendering throughput: requests per second for /, /login and /dashboard through the
Flask test client (no network, no web server), over a freshly migrated SQLite database.

Run: python benchmarks/pages.py [seconds per page]. Prints one line per page: requests,
requests/s, and the median and 95th percentile time per request. Logging is quietened so
the numbers measure rendering, not log output.
"""

from __future__ import annotations

import logging
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from p2pbank.app import create_app  # noqa: E402
from p2pbank.config import Config  # noqa: E402
from p2pbank.db import db_session  # noqa: E402
from p2pbank.identity import services  # noqa: E402
from p2pbank.migrate import upgrade  # noqa: E402

PASSWORD = "quiet-lantern-orbit-7731"  # noqa: S105 -- a throwaway benchmark account
PAGES = ("/", "/login", "/dashboard")


def build_app(folder: Path):
    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    upgrade(url)
    config = Config(
        ENV="testing",
        SECRET_KEY=secrets.token_hex(32),
        DATABASE_URL=url,
        INSTANCE_PATH=str(folder / "instance"),
        RATELIMIT_ENABLED=False,
        WTF_CSRF_ENABLED=False,
    ).finish()
    app = create_app(config)
    with app.app_context():
        services.sign_up(
            db_session(),
            email="bench@example.test",
            display_name="Bench",
            password=PASSWORD,
            roles=["lender", "borrower", "initiator", "backer"],
        )
    return app


def measure(client, path: str, seconds: float) -> tuple[int, float, list[float]]:
    timings: list[float] = []
    for _ in range(20):  # warm up templates and caches
        client.get(path)
    deadline = time.perf_counter() + seconds
    started = time.perf_counter()
    while time.perf_counter() < deadline:
        t0 = time.perf_counter()
        response = client.get(path)
        timings.append(time.perf_counter() - t0)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}")
    return len(timings), time.perf_counter() - started, timings


def main() -> None:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 3.0
    logging.disable(logging.INFO)
    with tempfile.TemporaryDirectory() as folder:
        app = build_app(Path(folder))
        client = app.test_client()
        signed_in = client.post(
            "/login", data={"email": "bench@example.test", "password": PASSWORD}
        )
        if signed_in.status_code != 302:
            raise SystemExit(f"sign-in failed: {signed_in.status_code}")
        print(f"page rendering, test client, {seconds:.0f} s per page, signed in as a member")
        print(f"{'page':<12}{'requests':>10}{'req/s':>10}{'median ms':>12}{'p95 ms':>10}")
        for path in PAGES:
            count, elapsed, timings = measure(client, path, seconds)
            p95 = statistics.quantiles(timings, n=20)[-1]
            print(
                f"{path:<12}{count:>10,}{count / elapsed:>10.0f}"
                f"{statistics.median(timings) * 1000:>12.2f}{p95 * 1000:>10.2f}"
            )
        app.extensions["p2pbank.engine"].dispose()


if __name__ == "__main__":
    main()
