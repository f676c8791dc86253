"""Signed-in pages over HTTP, beside a hello-world Flask page served the same way.

Starts the demo (migrated and seeded into a fresh instance folder, SQLite unless
DATABASE_URL is set) under gunicorn with 2 workers, and a one-line Flask app under
gunicorn with 2 workers; signs in as the demo lender; drives each page with wrk
(16 connections over loopback) and prints requests per second, p50/p99 and the ratio to
the hello page measured in the same run. Ratios hold on a busy machine; absolute times do
not. Needs `wrk` (Debian package wrk).

Run: python benchmarks/http_pages.py [seconds per page]
"""

from __future__ import annotations

import http.cookiejar
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PAGES = ("/lending/", "/dashboard", "/lending/lend", "/wallet", "/campaigns")
GOAL_RATIO = 0.3
GOAL_P99_MS = 50.0
AGENT = "p2pbank-benchmark"
CONNECTIONS = 16
WRK = shutil.which("wrk") or "/usr/bin/wrk"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310 -- loopback
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"nothing answered at {url}")


def gunicorn(app: str, port: int, env: dict, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(BIN / "gunicorn"), "--bind", f"127.0.0.1:{port}", "--workers", "2", app],
        cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def seed(env: dict) -> str:
    """Migrate and seed the demo; returns the demo lender's password."""
    flask = [str(BIN / "flask"), "--app", "wsgi"]
    subprocess.run([*flask, "db-upgrade"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    out = subprocess.run([*flask, "seed-demo"], cwd=ROOT, env=env, check=True,
                         capture_output=True, text=True).stdout
    return re.search(r"lena@demo\.p2pbank\.test\s+(\S+)", out).group(1)


def sign_in(base: str, email: str, password: str) -> str:
    """Sign in like a browser; returns the Cookie header for wrk."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.addheaders = [("User-Agent", AGENT)]
    form = opener.open(f"{base}/login").read().decode()
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    data = urllib.parse.urlencode({"email": email, "password": password, "csrf_token": token})
    page = opener.open(f"{base}/login", data.encode()).read().decode()
    if "Sign out" not in page and "sign out" not in page.lower():
        raise SystemExit("sign-in failed")
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def wrk(url: str, seconds: float, cookie: str = "") -> tuple[float, float, float]:
    """Requests/s, p50 ms and p99 ms of `url` under wrk."""
    headers = ["-H", f"User-Agent: {AGENT}"] + (["-H", f"Cookie: {cookie}"] if cookie else [])
    out = subprocess.run(
        [WRK, "-t2", f"-c{CONNECTIONS}", f"-d{seconds:.0f}s", "--latency", *headers, url],
        capture_output=True, text=True, check=True,
    ).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"{url} answered errors under load:\n{out}")
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return rate, _latency(out, "50%"), _latency(out, "99%")


def _latency(out: str, pct: str) -> float:
    value, unit = re.search(rf"^\s+{pct}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def main() -> None:
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else 5.0
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "FLASK_APP": "wsgi", "INSTANCE_PATH": f"{folder}/instance",
               "SECRET_KEY": secrets.token_hex(32), "RATELIMIT_ENABLED": "false"}
        password = seed(env)
        demo_port, hello_port = free_port(), free_port()
        servers = [gunicorn("wsgi:app", demo_port, env, ROOT),
                   gunicorn("hello_app:app", hello_port, env, ROOT / "benchmarks")]
        try:
            base = f"http://127.0.0.1:{demo_port}"
            wait_for(f"{base}/healthz")
            wait_for(f"http://127.0.0.1:{hello_port}/")
            cookie = sign_in(base, "lena@demo.p2pbank.test", password)
            report(base, f"http://127.0.0.1:{hello_port}/", cookie, seconds)
        finally:
            for server in servers:
                server.terminate()
                server.wait(timeout=30)


def report(base: str, hello: str, cookie: str, seconds: float) -> None:
    print(f"signed-in pages over HTTP: gunicorn 2 sync workers each, wrk {CONNECTIONS} "
          f"connections, {seconds:.0f} s per page; goal each >= {GOAL_RATIO}x the hello page "
          f"and p99 < {GOAL_P99_MS:.0f} ms")
    wrk(hello, 1)  # warm up
    hello_rate, hello_p50, hello_p99 = wrk(hello, seconds)
    print(f"  {'hello page':14} {hello_rate:8.0f} req/s  p50 {hello_p50:6.1f} ms  "
          f"p99 {hello_p99:6.1f} ms  (baseline)")
    for page in PAGES:
        wrk(base + page, 1, cookie)  # warm up templates and caches
        rate, p50, p99 = wrk(base + page, seconds, cookie)
        ratio = rate / hello_rate
        met = "met" if ratio >= GOAL_RATIO and p99 < GOAL_P99_MS else "NOT met"
        print(f"  {page:14} {rate:8.0f} req/s  p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  "
              f"{ratio:5.2f}x  goal {met}")


if __name__ == "__main__":
    main()
