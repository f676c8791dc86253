"""Behind a TLS proxy (TRUSTED_PROXY_COUNT=1) the app sees the real client and scheme: per-IP
limits count each client, HTTPS requests get HSTS. Without a proxy (the default, 0) the
X-Forwarded-* headers are the client's own words and change nothing."""

from __future__ import annotations

from dataclasses import replace

from p2pbank.app import create_app
from tests.support.database import bound_sessionmaker
from tests.support.pages import Browser

PROXY = "10.0.0.2"  # the address the app sees: the proxy's


def _app(config, connection, proxies: int, **changes):
    app = create_app(
        replace(
            config, TRUSTED_PROXY_COUNT=proxies, LOGIN_LIMIT_PER_IP="3 per 15 minutes", **changes
        )
    )
    app.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    return app


def _client(app, forwarded_for: str, proto: str = "http") -> Browser:
    browser = Browser(app.test_client())
    browser.client.environ_base.update(
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=forwarded_for,
        HTTP_X_FORWARDED_PROTO=proto,
    )
    return browser


def _exhaust_ip_limit(browser: Browser) -> None:
    for n in range(3):
        response = browser.login(f"guess{n}@example.test", "wrong-password-000")
        assert response.status_code == 401, response.status_code


def test_one_proxy_each_client_has_its_own_ip_limit(config, connection, make_user):
    app = _app(config, connection, proxies=1)
    user = make_user()
    first = _client(app, "203.0.113.5")
    _exhaust_ip_limit(first)
    assert first.login(user.email).status_code == 429
    # A second person behind the same proxy is not locked out by the first.
    assert _client(app, "203.0.113.6").login(user.email).status_code == 302


def test_one_proxy_a_client_cannot_choose_its_address(config, connection, make_user):
    """The proxy appends the address it saw; only that last one is believed."""
    app = _app(config, connection, proxies=1)
    user = make_user()
    _exhaust_ip_limit(_client(app, "203.0.113.5"))
    spoofing = _client(app, "198.51.100.1, 203.0.113.5")
    assert spoofing.login(user.email).status_code == 429


def test_no_proxy_forwarded_headers_are_ignored(config, connection, make_user):
    app = _app(config, connection, proxies=0)
    user = make_user()
    _exhaust_ip_limit(_client(app, "203.0.113.5"))
    # Another X-Forwarded-For from the same connection is the same client.
    assert _client(app, "203.0.113.6").login(user.email).status_code == 429
    page = _client(app, "203.0.113.7", proto="https").get("/")
    assert "Strict-Transport-Security" not in page.headers


def test_one_proxy_https_gets_hsts(config, connection):
    app = _app(config, connection, proxies=1)
    secure = _client(app, "203.0.113.5", proto="https").get("/")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")
    plain = _client(app, "203.0.113.5", proto="http").get("/")
    assert "Strict-Transport-Security" not in plain.headers


def test_production_always_sends_hsts(config, connection):
    app = _app(config, connection, proxies=0, ENV="production", BASE_URL="https://p2pbank.example")
    response = app.test_client().get("/healthz", headers={"Host": "p2pbank.example"})
    assert response.status_code == 200
    assert "max-age" in response.headers["Strict-Transport-Security"]
