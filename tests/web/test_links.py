"""Links that leave the site come from BASE_URL, never from the request's Host header, and
requests for a host the site is not are refused (TRUSTED_HOSTS)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from sqlalchemy import func, select

from p2pbank.app import create_app
from p2pbank.config import Config, ConfigError
from p2pbank.identity.models import OutboxMail
from p2pbank.links import absolute_url, absolute_url_in
from tests.support.database import bound_sessionmaker

BASE = "https://p2pbank.example"


def _app(config, connection, **changes):
    app = create_app(replace(config, WTF_CSRF_ENABLED=False, BASE_URL=BASE, **changes))
    app.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    return app


def _reset_mail(session, email: str) -> OutboxMail | None:
    return session.scalars(
        select(OutboxMail)
        .where(OutboxMail.to_address == email, OutboxMail.subject == "Reset your p2pbank password")
        .order_by(OutboxMail.id.desc())
    ).first()


def test_a_reset_asked_with_a_forged_host_mails_a_link_to_base_url(
    config, connection, session, make_user
):
    """Even with the host check off, the link names the configured site."""
    app = _app(config, connection, TRUSTED_HOSTS="*")
    user = make_user()
    response = app.test_client().post(
        "/password/forgot",
        data={"email": user.email},
        headers={"Host": "evil.example", "X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 200
    mail = _reset_mail(session, user.email)
    assert mail is not None
    assert f"{BASE}/password/reset/" in mail.body
    assert "evil.example" not in mail.body


@pytest.mark.parametrize("path", ["/password/forgot", "/", "/api/v1/me", "/login"])
def test_an_unknown_host_is_a_400_and_nothing_is_written(
    config, connection, session, make_user, path
):
    app = _app(config, connection)
    user = make_user()
    before = session.scalar(select(func.count(OutboxMail.id)))
    response = app.test_client().post(
        path, data={"email": user.email}, headers={"Host": "evil.example"}
    )
    assert response.status_code == 400
    assert session.scalar(select(func.count(OutboxMail.id))) == before
    if path.startswith("/api/"):
        assert response.mimetype == "application/problem+json"


def test_the_configured_host_and_local_names_are_served(config, connection):
    app = _app(config, connection)
    client = app.test_client()
    assert client.get("/", headers={"Host": "p2pbank.example"}).status_code == 200
    assert client.get("/", headers={"Host": "127.0.0.1:5000"}).status_code == 200
    assert client.get("/").status_code == 200  # the test client's "localhost"


def test_production_serves_only_its_own_hosts(config, connection):
    app = _app(config, connection, ENV="production", TRUSTED_HOSTS="www.p2pbank.example")
    client = app.test_client()
    assert client.get("/healthz", headers={"Host": "p2pbank.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "www.p2pbank.example"}).status_code == 200
    assert client.get("/healthz", headers={"Host": "localhost"}).status_code == 400


def test_absolute_url_works_outside_a_request_and_under_a_path(config, connection):
    app = _app(config, connection)
    with app.app_context():
        assert absolute_url("auth.login") == f"{BASE}/login"
        assert absolute_url("password_reset.reset", token="abc") == f"{BASE}/password/reset/abc"
    mounted = _app(config, connection)
    mounted.config["BASE_URL"] = "https://bank.example:8443/p2p"
    assert absolute_url_in(mounted, "auth.login") == "https://bank.example:8443/p2p/login"


def test_base_url_defaults_outside_production_and_is_required_in_production():
    assert Config(ENV="development", DATABASE_URL="sqlite://").finish().BASE_URL == (
        "http://127.0.0.1:5000"
    )
    production = {
        "ENV": "production",
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": "sqlite://",
        "AUDIT_SIGNING_KEY": "",
        "SMTP_URL": "smtps://mailer:secret@mail.p2pbank.example",
    }
    from p2pbank.audit.note import generate_signer

    production["AUDIT_SIGNING_KEY"] = generate_signer("p2pbank.example/log").skey
    with pytest.raises(ConfigError, match="BASE_URL must be set"):
        Config(**production).finish()
    with pytest.raises(ConfigError, match="https"):
        Config(**production, BASE_URL="http://p2pbank.example").finish()
    with pytest.raises(ConfigError, match="look like"):
        Config(**production, BASE_URL="p2pbank.example").finish()
    assert Config(**production, BASE_URL=BASE).finish().trusted_hosts() == ["p2pbank.example"]
