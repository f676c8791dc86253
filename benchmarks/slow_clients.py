"""/healthz while four clients trickle a body to /webhooks/stripe, one byte every 2 s.

Serves the app twice under gunicorn, each time with a fresh instance folder: first as
`make run` used to (two synchronous workers, the baseline), then with the shipped
configuration (`-c python:p2pbank.gunicorn_conf`). Prints the time of each /healthz
request made while the slow clients are connected (or that it got no answer within the
client's timeout).

Run: python benchmarks/slow_clients.py [number of slow clients]
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.serving.server import gunicorn, prepare_instance  # noqa: E402
from tests.serving.slow_client import SlowClient  # noqa: E402

PROBES = 5
PROBE_TIMEOUT = 15.0
SETUPS = {
    "baseline: 2 sync workers": ("--workers", "2"),
    "p2pbank.gunicorn_conf": ("-c", "python:p2pbank.gunicorn_conf"),
}


def measure(args: tuple[str, ...], slow_count: int, folder: Path) -> list[float | None]:
    env = prepare_instance(folder / "instance")
    with gunicorn(env, folder / "logs", *args) as server:
        slow = [SlowClient(server.url, "/webhooks/stripe", interval=2.0, give_up=120)
                for _ in range(slow_count)]
        for client in slow:
            client.start()
            client.connected.wait(10)
        time.sleep(3)
        timings: list[float | None] = []
        for _ in range(PROBES):
            started = time.perf_counter()
            try:
                requests.get(f"{server.url}/healthz", timeout=PROBE_TIMEOUT).raise_for_status()
                timings.append(time.perf_counter() - started)
            except requests.RequestException:
                timings.append(None)
        return timings


def main() -> None:
    slow_count = int(sys.argv[1]) if len(sys.argv) > 1 else 4
    print(f"/healthz with {slow_count} clients sending a body at 1 byte / 2 s")
    for name, args in SETUPS.items():
        with tempfile.TemporaryDirectory(prefix="p2pbank-slow-") as tmp:
            timings = measure(args, slow_count, Path(tmp))
        answered = [t for t in timings if t is not None]
        shown = ", ".join("no answer" if t is None else f"{t * 1000:.0f} ms" for t in timings)
        median = f"median {statistics.median(answered) * 1000:.0f} ms" if answered else "-"
        print(f"  {name:28} {len(answered)}/{PROBES} answered ({median}): {shown}")


if __name__ == "__main__":
    main()
