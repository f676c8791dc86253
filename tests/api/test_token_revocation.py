"""A password change or reset revokes the person's API tokens: whoever stole the password
may also have made a token, and a token must not outlive the credential that made it."""

from __future__ import annotations

from sqlalchemy import select

from p2pbank.identity import reset_services, services
from p2pbank.identity.models import ApiToken, OutboxMail
from tests.support.people import STRONG_PASSWORD

NEW_PASSWORD = "a-brand-new-secret-77"


def test_a_password_change_revokes_every_api_token(client, session, make_user, api_token):
    user = make_user()
    read, write = api_token(user, "read"), api_token(user, "write")
    assert client.get("/api/v1/me", headers=read).status_code == 200
    services.change_password(session, user.id, current=STRONG_PASSWORD, new=NEW_PASSWORD)
    for headers in (read, write):
        response = client.get("/api/v1/me", headers=headers)
        assert response.status_code == 401
        assert response.mimetype == "application/problem+json"
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id)).all()
    assert len(rows) == 2 and all(row.revoked_at is not None for row in rows)
    mail = session.scalars(
        select(OutboxMail).where(OutboxMail.to_address == user.email).order_by(OutboxMail.id)
    ).all()[-1]
    assert "API tokens" in mail.body


def test_a_password_reset_revokes_every_api_token(client, session, make_user, api_token):
    user = make_user()
    headers = api_token(user)
    secret = reset_services.request_password_reset(
        session, user.email, ttl_seconds=600, link_for=lambda token: token
    )
    reset_services.reset_password(session, secret, NEW_PASSWORD)
    assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_other_people_keep_their_tokens(client, session, make_user, api_token):
    ann, bob = make_user(), make_user()
    bobs = api_token(bob)
    services.change_password(session, ann.id, current=STRONG_PASSWORD, new=NEW_PASSWORD)
    assert client.get("/api/v1/me", headers=bobs).status_code == 200


def test_a_token_made_after_the_change_works(client, session, make_user, api_token):
    user = make_user()
    services.change_password(session, user.id, current=STRONG_PASSWORD, new=NEW_PASSWORD)
    assert client.get("/api/v1/me", headers=api_token(user)).status_code == 200
