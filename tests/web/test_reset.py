"""Password reset through the pages: the same answer for every address, a single-use
expiring link, a new password that ends every other session, and two-factor still asked."""

from __future__ import annotations

import logging
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.app import create_app
from p2pbank.identity import services
from p2pbank.identity.models import OutboxMail, PasswordResetToken
from tests.dutch import speak_pending_dutch
from tests.support.database import bound_sessionmaker
from tests.support.pages import Browser
from tests.support.people import STRONG_PASSWORD

FORGOT = "/password/forgot"
NEW_PASSWORD = "a-brand-new-secret-77"
LINK = re.compile(r"http://127\.0\.0\.1:5000(/password/reset/[A-Za-z0-9_-]+)")  # BASE_URL


def _mail_link(session, email: str) -> str:
    mail = session.scalars(
        select(OutboxMail)
        .where(OutboxMail.to_address == email, OutboxMail.subject == "Reset your p2pbank password")
        .order_by(OutboxMail.id.desc())
    ).first()
    assert mail is not None, "no reset mail in the outbox"
    return LINK.search(mail.body).group(1)


def _count(session, model) -> int:
    return session.scalar(select(func.count(model.id)))


def test_the_answer_is_the_same_whether_or_not_the_account_exists(web, make_user, session):
    user = make_user(email="ann@example.test")
    known = web.submit(FORGOT, {"email": "ann@example.test"})
    mails = _count(session, OutboxMail)
    unknown = web.submit(FORGOT, {"email": "zed@example.test"})
    assert known.status_code == unknown.status_code == 200
    assert known.get_data(as_text=True).replace("ann@", "X@") == unknown.get_data(
        as_text=True
    ).replace("zed@", "X@")
    assert "a link to choose a new password is on its way" in known.get_data(as_text=True)
    assert _count(session, OutboxMail) == mails  # nothing written for the unknown address
    assert _mail_link(session, user.email).startswith("/password/reset/")


def test_a_malformed_address_is_a_form_error(web, session):
    response = web.submit(FORGOT, {"email": "not-an-address"})
    assert response.status_code == 422
    assert "valid email" in response.get_data(as_text=True)


def test_the_link_is_logged_in_development(web, make_user, session, caplog):
    user = make_user()
    with caplog.at_level(logging.INFO, logger="p2pbank.identity"):
        web.submit(FORGOT, {"email": user.email})
    link = _mail_link(session, user.email)
    assert any(link in record.getMessage() for record in caplog.records)


def test_the_link_is_never_logged_in_production(config, connection, make_user, session, caplog):
    production = replace(
        config, ENV="production", WTF_CSRF_ENABLED=False, BASE_URL="https://p2pbank.example"
    )
    app = create_app(production)
    app.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    user = make_user()
    with caplog.at_level(logging.DEBUG):
        response = app.test_client().post(
            FORGOT, data={"email": user.email}, base_url="https://p2pbank.example"
        )
    assert response.status_code == 200
    mail = session.scalar(select(OutboxMail).where(OutboxMail.to_address == user.email))
    secret = mail.body.split("/password/reset/")[1].split()[0]
    assert mail.body.count("https://p2pbank.example/password/reset/") == 1
    assert not any(secret in record.getMessage() for record in caplog.records)


def test_resetting_ends_other_sessions_and_the_link_works_once(app, signed_in, make_user, session):
    user = make_user()
    elsewhere = signed_in(user)
    browser = Browser(app.test_client())
    browser.submit(FORGOT, {"email": user.email})
    link = _mail_link(session, user.email)
    form = browser.get(link)
    assert form.status_code == 200 and 'name="new_password"' in form.get_data(as_text=True)

    weak = browser.submit(link, {"new_password": "password1234"})
    assert weak.status_code == 422
    assert "too common" in weak.get_data(as_text=True)

    done = browser.submit(link, {"new_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert elsewhere.get("/dashboard").status_code == 302  # signed out everywhere
    assert Browser(app.test_client()).login(user.email, STRONG_PASSWORD).status_code == 401
    assert Browser(app.test_client()).login(user.email, NEW_PASSWORD).status_code == 302

    used = browser.get(link)
    assert used.status_code == 410
    assert "Ask for a new link" in used.get_data(as_text=True)
    again = browser.submit(FORGOT, {"new_password": "yet-another-secret-88"}, action=link)
    assert again.status_code == 410
    assert Browser(app.test_client()).login(user.email, NEW_PASSWORD).status_code == 302


def test_an_expired_link_is_refused(web, make_user, session, frozen_now):
    user = make_user()
    web.submit(FORGOT, {"email": user.email})
    link = _mail_link(session, user.email)
    clock.advance(timedelta(seconds=3600))
    response = web.get(link)
    assert response.status_code == 410
    assert "expired" in response.get_data(as_text=True)
    row = session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    assert row.used_at is None


def test_an_expired_link_is_refused_even_with_the_form_open(web, make_user, session, frozen_now):
    user = make_user()
    web.submit(FORGOT, {"email": user.email})
    link = _mail_link(session, user.email)
    page = web.get(link)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.get_data(as_text=True)).group(1)
    clock.advance(timedelta(hours=2))
    response = web.client.post(link, data={"new_password": NEW_PASSWORD, "csrf_token": token})
    assert response.status_code == 410
    assert Browser(web.client.application.test_client()).login(user.email).status_code == 302


@pytest.mark.parametrize("token", ["nonsense", "x" * 43, "A" * 128])
def test_unknown_links_are_refused(web, token):
    assert web.get(f"/password/reset/{token}").status_code == 410


def test_an_overlong_link_is_not_found(web):
    assert web.get("/password/reset/" + "A" * 129).status_code == 404


def test_two_factor_is_still_asked_after_a_reset(app, make_user, session):
    user = make_user(two_factor=True)
    browser = Browser(app.test_client())
    browser.submit(FORGOT, {"email": user.email})
    browser.submit(_mail_link(session, user.email), {"new_password": NEW_PASSWORD})
    response = browser.submit("/login", {"email": user.email, "password": NEW_PASSWORD})
    assert response.headers["Location"] == "/login/two-factor"
    assert browser.get("/dashboard").status_code == 302


def test_reset_requests_are_rate_limited_per_address(web, make_user, session):
    for address in ["ann@example.test", "nobody@example.test"]:  # same for unknown addresses
        for _ in range(5):
            assert web.submit(FORGOT, {"email": address}).status_code == 200
        limited = web.submit(FORGOT, {"email": address})
        assert limited.status_code == 429
        assert limited.headers["Retry-After"].isdigit()
        assert "Too many reset requests for this address." in limited.get_data(as_text=True)


def test_the_sign_in_page_links_to_the_reset(web):
    assert f'href="{FORGOT}"' in web.get("/login").get_data(as_text=True)


def test_the_reset_mail_speaks_the_saved_language_else_the_pages(
    web, make_user, session, monkeypatch
):
    speak_pending_dutch(monkeypatch)
    dutch = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
    ann, bob = make_user(email="ann@example.test"), make_user(email="bob@example.test")
    services.set_locale(session, bob.id, "en")
    web.submit(FORGOT, {"email": ann.email}, headers=dutch)  # no saved language: the page's
    web.submit(FORGOT, {"email": bob.email}, headers=dutch)  # his saved one
    (to_ann,) = session.scalars(select(OutboxMail).where(OutboxMail.to_address == ann.email))
    assert to_ann.subject == "Stel een nieuw wachtwoord in voor p2pbank"
    assert LINK.search(to_ann.body)
    assert _mail_link(session, bob.email).startswith("/password/reset/")  # in English
