"""A live server and Debian's chromium, for tests that drive a real browser.

The server is real: `create_app` served by werkzeug on 127.0.0.1 (a free port) in a
thread, over its own fresh SQLite database built by the Alembic migrations
(`p2pbank.migrate.upgrade`), so these tests also prove that the migrated schema runs the
app. There is no rolled-back transaction here: each test makes its own people with unique
e-mail addresses. SQLite is used on every run (also when the rest of the suite runs on
PostgreSQL) because the run's PostgreSQL database belongs to the rolled-back rig.

Chromium is Debian's (/usr/bin/chromium, installed by .ci/run), launched through
playwright.sync_api with `executable_path`; Playwright's own browser downloads and the
pytest-playwright fixtures are not used (the plugin is switched off in pyproject.toml).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator

import pytest
from werkzeug.serving import make_server

from p2pbank.app import create_app
from p2pbank.config import Config
from p2pbank.migrate import upgrade
from tests.support.database import TEST_SECRET

CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


class LiveServer:
    def __init__(self, app, host: str = "127.0.0.1"):
        self.app = app
        self._server = make_server(host, 0, app, threaded=True)  # port 0: any free port
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=10)


@pytest.fixture(scope="session")
def live_server(tmp_path_factory) -> Iterator[LiveServer]:
    folder = tmp_path_factory.mktemp("live")
    database_url = f"sqlite:///{folder / 'live.sqlite3'}"
    upgrade(database_url)
    config = Config(
        ENV="testing",
        SECRET_KEY=TEST_SECRET,
        DATABASE_URL=database_url,
        INSTANCE_PATH=str(folder / "instance"),
    ).finish()
    server = LiveServer(create_app(config))
    server.app.config["BASE_URL"] = server.url  # mailed links lead back to this server
    server.start()
    try:
        yield server
    finally:
        server.stop()
        server.app.extensions["p2pbank.engine"].dispose()


@pytest.fixture(scope="session")
def chromium() -> Iterator[object]:
    if not os.access(CHROMIUM, os.X_OK):
        pytest.skip(f"no chromium at {CHROMIUM} (.ci/run installs Debian's chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium, live_server) -> Iterator[object]:
    """A fresh browser context (no cookies) per test; console errors are collected in
    `page.console_errors` (a CSP violation shows up there)."""
    context = chromium.new_context(base_url=live_server.url, locale="en-GB")
    context.set_default_timeout(15_000)
    tab = context.new_page()
    tab.console_errors = []  # type: ignore[attr-defined]
    tab.on(
        "console",
        lambda message: (
            tab.console_errors.append(message.text)  # type: ignore[attr-defined]
            if message.type == "error"
            else None
        ),
    )
    try:
        yield tab
    finally:
        context.close()
