"""Brute-force limits: a clear 429 with Retry-After on pages and in the API, and Redis
storage when REDIS_URL is set (the counter is really in Redis)."""

from __future__ import annotations

import os
import secrets
from dataclasses import replace

import pytest
from flask import jsonify

from p2pbank.app import create_app
from p2pbank.extensions import limiter
from tests.support.database import bound_sessionmaker
from tests.support.pages import Browser
from tests.support.people import STRONG_PASSWORD

REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "redis://127.0.0.1:6379/15")


def _retry_after(response) -> int:
    value = response.headers.get("Retry-After", "")
    assert value.isdigit(), f"Retry-After is {value!r}"
    return int(value)


def test_account_lockout_page_says_why_and_when(web, make_user):
    user = make_user()
    for attempt in range(5):
        assert web.login(user.email, f"wrong-password-{attempt:03d}").status_code == 401
    locked = web.login(user.email)  # the right password, too late
    assert locked.status_code == 429
    assert 0 < _retry_after(locked) <= 15 * 60
    html = locked.get_data(as_text=True)
    assert "Too many sign-in attempts for this account. Wait a while and try again." in html
    assert locked.mimetype == "text/html"
    assert web.get("/dashboard").status_code == 302


def test_the_lock_is_per_account(app, make_user):
    ann, bob = make_user(), make_user()
    attacker = Browser(app.test_client())
    for attempt in range(6):
        attacker.login(ann.email, f"wrong-password-{attempt:03d}")
    assert attacker.login(bob.email).status_code == 302


def test_per_ip_lockout_across_many_accounts(web, make_user):
    user = make_user()
    for n in range(20):
        assert web.login(f"guess{n}@example.test", "wrong-password-000").status_code == 401
    locked = web.login(user.email)
    assert locked.status_code == 429
    assert "Too many sign-in attempts. Wait a while and try again." in locked.get_data(as_text=True)
    assert _retry_after(locked) > 0
    other_place = Browser(web.client.application.test_client())
    other_place.client.environ_base["REMOTE_ADDR"] = "10.9.8.7"
    assert other_place.login(user.email).status_code == 302


def test_api_429_is_a_problem_with_retry_after(config, connection):
    app = create_app(config)
    app.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)

    @limiter.limit("2 per minute", error_message="Too many test calls.")
    def ratelimit_probe():
        return jsonify(ok=True)

    app.add_url_rule("/api/v1/ratelimit-probe", view_func=ratelimit_probe)
    client = app.test_client()
    assert [client.get("/api/v1/ratelimit-probe").status_code for _ in range(2)] == [200, 200]
    limited = client.get("/api/v1/ratelimit-probe")
    assert limited.status_code == 429
    assert limited.mimetype == "application/problem+json"
    assert limited.json["status"] == 429
    assert limited.json["detail"] == "Too many test calls. Wait a while and try again."
    assert 0 < _retry_after(limited) <= 60


# --- Redis storage --------------------------------------------------------------------------


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_TEST_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        if "REDIS_TEST_URL" in os.environ:
            raise
        pytest.skip(f"no Redis answers at {REDIS_TEST_URL} (set REDIS_TEST_URL)")
    yield client
    client.close()


def test_limits_are_counted_in_redis_when_redis_url_is_set(
    config, connection, make_user, redis_client
):
    app = create_app(replace(config, REDIS_URL=REDIS_TEST_URL))
    app.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    assert app.config["RATELIMIT_STORAGE_URI"] == REDIS_TEST_URL

    marker = secrets.token_hex(6)  # only keys with this marker are this test's
    user = make_user(email=f"redis-{marker}@example.test")
    ip = f"10.{int(marker[:2], 16)}.{int(marker[2:4], 16)}.{int(marker[4:6], 16)}"
    browser = Browser(app.test_client())
    browser.client.environ_base["REMOTE_ADDR"] = ip
    patterns = [f"*{user.email}*", f"*/{ip}/*"]
    try:
        for attempt in range(5):
            assert browser.login(user.email, f"wrong-password-{attempt:03d}").status_code == 401
        keys = {
            key.decode() for pattern in patterns for key in redis_client.scan_iter(match=pattern)
        }
        account_keys = [k for k in keys if user.email in k]
        ip_keys = [k for k in keys if f"/{ip}/" in k]
        assert len(account_keys) == 1 and len(ip_keys) == 1, keys
        assert int(redis_client.get(account_keys[0])) == 5
        assert int(redis_client.get(ip_keys[0])) == 5
        assert 0 < redis_client.ttl(account_keys[0]) <= 15 * 60

        locked = browser.login(user.email, STRONG_PASSWORD)
        assert locked.status_code == 429
        assert 0 < _retry_after(locked) <= 15 * 60
    finally:
        for pattern in patterns:
            for key in list(redis_client.scan_iter(match=pattern)):
                redis_client.delete(key)
    assert not any(redis_client.scan_iter(match=f"*{marker}*"))


def test_failed_guesses_from_elsewhere_do_not_lock_the_owner_out(app, make_user):
    """The lock is per account and source: five bad passwords from one place lock that place
    out of the account, not the owner signing in from home."""
    victim = make_user()
    attacker = Browser(app.test_client())
    attacker.client.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    for attempt in range(6):
        attacker.login(victim.email, f"wrong-password-{attempt:03d}")
    assert attacker.login(victim.email).status_code == 429
    owner = Browser(app.test_client())
    owner.client.environ_base["REMOTE_ADDR"] = "203.0.113.20"
    assert owner.login(victim.email).status_code == 302


def test_an_ipv6_source_is_its_whole_network(app, make_user):
    """One IPv6 host holds a /64: hopping addresses inside it does not reset the count."""
    victim = make_user()
    for attempt in range(5):
        hop = Browser(app.test_client())
        hop.client.environ_base["REMOTE_ADDR"] = f"2001:db8:1:2::{attempt + 1:x}"
        assert hop.login(victim.email, f"wrong-password-{attempt:03d}").status_code == 401
    same_network = Browser(app.test_client())
    same_network.client.environ_base["REMOTE_ADDR"] = "2001:db8:1:2::99"
    assert same_network.login(victim.email).status_code == 429
    other_network = Browser(app.test_client())
    other_network.client.environ_base["REMOTE_ADDR"] = "2001:db8:1:3::1"
    assert other_network.login(victim.email).status_code == 302
