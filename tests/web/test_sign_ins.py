"""Sign-out ends the session on the server: a copy of the cookie taken before signing out
opens nothing afterwards. A password change or reset ends every session of the person."""

from __future__ import annotations

from sqlalchemy import select

from p2pbank.identity import reset_services, services
from p2pbank.identity.models import SignIn
from tests.support.pages import Browser
from tests.support.people import STRONG_PASSWORD


def _session_cookie(browser: Browser) -> str:
    cookie = browser.client.get_cookie("session")
    assert cookie is not None, "no session cookie"
    return cookie.value


def _replay(app, value: str) -> int:
    """A fresh client that only carries the copied cookie: what a thief would send."""
    thief = app.test_client()
    thief.set_cookie("session", value)
    return thief.get("/dashboard").status_code


def test_a_cookie_copied_before_sign_out_is_worthless_after(app, signed_in, make_user):
    browser = signed_in(make_user())
    copied = _session_cookie(browser)
    assert _replay(app, copied) == 200  # the copy works while the session lasts
    assert browser.logout().status_code == 302
    assert _replay(app, copied) == 302  # to the sign-in page
    assert browser.get("/dashboard").status_code == 302


def test_sign_out_ends_only_that_session(app, signed_in, make_user):
    user = make_user()
    laptop, phone = signed_in(user), signed_in(user)
    laptop.logout()
    assert phone.get("/dashboard").status_code == 200


def test_a_password_change_ends_every_other_session_server_side(app, signed_in, make_user):
    user = make_user()
    first, second = signed_in(user), signed_in(user)
    copied = _session_cookie(second)
    response = first.submit(
        "/settings/password",
        {"current_password": STRONG_PASSWORD, "new_password": "a-brand-new-secret-77"},
    )
    assert response.status_code == 302
    assert first.get("/dashboard").status_code == 200  # this one was re-issued
    assert _replay(app, copied) == 302


def test_a_password_reset_ends_every_session(app, session, signed_in, make_user):
    user = make_user()
    browser = signed_in(user)
    link = reset_services.request_password_reset(
        session, user.email, ttl_seconds=600, link_for=lambda token: token
    )
    reset_services.reset_password(session, link, "a-brand-new-secret-77")
    assert browser.get("/dashboard").status_code == 302
    open_rows = session.scalars(
        select(SignIn).where(SignIn.user_id == user.id, SignIn.ended_at.is_(None))
    ).all()
    assert open_rows == []


def test_the_cookie_holds_no_user_id_and_the_server_keeps_only_a_hash(
    app, session, signed_in, make_user
):
    user = make_user()
    browser = signed_in(user)
    row = session.scalars(select(SignIn).where(SignIn.user_id == user.id)).one()
    assert len(row.key_hash) == 64
    from flask.sessions import SecureCookieSessionInterface

    serializer = SecureCookieSessionInterface().get_signing_serializer(app)
    data = serializer.loads(_session_cookie(browser))
    assert data["_user_id"] != str(user.id) and ":" not in data["_user_id"]
    assert row.key_hash not in str(data)
    assert services.get_user(session, user.id) is not None


def test_a_forged_or_unknown_key_is_not_signed_in(app, make_user):
    make_user()
    forger = app.test_client()
    with forger.session_transaction() as cookie:
        cookie["_user_id"] = "1:0"
        cookie["_fresh"] = True
    assert forger.get("/dashboard").status_code == 302
