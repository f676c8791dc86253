"""Several gunicorn workers behave as one server: every worker signs sessions and CSRF
tokens with the same key (made once in the instance folder) and counts rate limits in the
same place. One test process never shows this; a real server with three workers does."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from p2pbank.demo import demo_password
from tests.serving.server import add_member, csrf_token, gunicorn, prepare_instance, worker_pids

LENA = "lena@demo.p2pbank.test"
OTHER = "other@example.test"
CLOSE = {"Connection": "close"}  # a new connection per request: the kernel picks a worker


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("served") / "instance"
    env = prepare_instance(folder)
    add_member(env, LENA, demo_password(LENA), "Lena Lender")
    add_member(env, OTHER, demo_password(OTHER), "Other Member")
    assert not (folder / "secret.key").exists()
    with gunicorn(
        env, folder.parent / "logs", "-c", "python:p2pbank.gunicorn_conf", "--workers", "3"
    ) as server:
        yield server, folder


def _sign_in(browser: requests.Session, url: str, email: str, password: str):
    form = browser.get(f"{url}/login", headers=CLOSE, timeout=10)
    assert form.status_code == 200
    return browser.post(
        f"{url}/login",
        data={"email": email, "password": password, "csrf_token": csrf_token(form.text)},
        headers=CLOSE,
        allow_redirects=False,
        timeout=10,
    )


def test_the_secret_key_is_made_once_in_the_instance_folder(served):
    _server, folder = served
    key_file = folder / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert len(key_file.read_text().strip()) == 64
    assert not [p.name for p in folder.iterdir() if p.name.startswith(".secret.key.")]


def test_sign_in_and_browse_twenty_times_across_workers(served):
    server, _folder = served
    browser = requests.Session()
    signed_in = _sign_in(browser, server.url, LENA, demo_password(LENA))
    assert signed_in.status_code == 302, signed_in.text[:500]
    failures = []
    for round_ in range(20):
        page = browser.get(
            f"{server.url}/settings/language", headers=CLOSE, allow_redirects=False, timeout=10
        )
        if page.status_code != 200:
            failures.append((round_, "GET", page.status_code, page.headers.get("Location")))
            continue
        saved = browser.post(
            f"{server.url}/settings/language",
            data={"locale": ("en", "nl")[round_ % 2], "csrf_token": csrf_token(page.text)},
            headers=CLOSE,
            allow_redirects=False,
            timeout=10,
        )
        if saved.status_code != 302 or not saved.headers["Location"].endswith("/language"):
            failures.append((round_, "POST", saved.status_code, saved.headers.get("Location")))
    assert failures == []
    # Sequential requests may all land on one idle worker; requests at the same moment
    # cannot (a sync worker serves one at a time), so the session must hold on the others.
    cookies = browser.cookies.get_dict()

    def signed_in_page(_n: int) -> int:
        with requests.Session() as other:
            other.cookies.update(cookies)
            return other.get(
                f"{server.url}/settings/language", headers=CLOSE, allow_redirects=False, timeout=20
            ).status_code

    with ThreadPoolExecutor(max_workers=9) as pool:
        statuses = list(pool.map(signed_in_page, range(27)))
    assert statuses == [200] * 27
    assert len(worker_pids(server)) >= 2, "every request went to one worker"


def test_the_account_lock_counts_across_workers(served):
    server, _folder = served
    answers = []
    for attempt in range(6):
        answer = _sign_in(requests.Session(), server.url, OTHER, f"wrong-password-{attempt:03d}")
        answers.append(answer.status_code)
    assert answers == [401] * 5 + [429]
    assert _sign_in(requests.Session(), server.url, OTHER, demo_password(OTHER)).status_code == 429
