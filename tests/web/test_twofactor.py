"""Two-factor sign-in through the pages: enrolment with a QR code, the sign-in challenge
with app codes and recovery codes, lockout, and auditors/admins sent to enrolment first."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.identity import services, twofactor
from p2pbank.identity.models import RecoveryCode
from tests.support.pages import Browser
from tests.support.people import SECOND_FACTOR_CODES, STRONG_PASSWORD

CHALLENGE = "/login/two-factor"
SETTINGS = "/settings/two-factor"


def _code(user, later_seconds: int = 30) -> str:
    """A code for a step after the one make_user's enrolment used."""
    clock.advance(timedelta(seconds=later_seconds))
    return twofactor.code_at(user.totp_secret, clock.now())


def _password_step(app, user, path: str = "/login") -> Browser:
    browser = Browser(app.test_client())
    page = browser.submit(path, {"email": user.email, "password": STRONG_PASSWORD})
    assert page.status_code == 302
    assert page.headers["Location"] == CHALLENGE
    return browser


# --- enrolment ----------------------------------------------------------------------------


def test_enrolment_with_qr_code_and_confirmation(app, signed_in, make_user, session, frozen_now):
    user = make_user()
    browser = signed_in(user)
    other_session = signed_in(user)
    page = browser.get(SETTINGS).get_data(as_text=True)
    assert "Set up two-factor sign-in" in page
    assert browser.get(f"{SETTINGS}/qr.svg").status_code == 404  # nothing started yet

    started = browser.submit(SETTINGS, {}, action=f"{SETTINGS}/start")
    assert started.status_code == 302
    session.refresh(user)
    secret = user.totp_secret
    page = browser.get(SETTINGS)
    assert page.headers["Cache-Control"] == "no-store"
    html = page.get_data(as_text=True)
    assert f'src="{SETTINGS}/qr.svg"' in html
    assert secret[:4] + " " + secret[4:8] in html  # the key, grouped for typing

    qr = browser.get(f"{SETTINGS}/qr.svg")
    assert qr.status_code == 200
    assert qr.mimetype == "image/svg+xml"
    assert qr.headers["Cache-Control"] == "no-store"
    assert qr.get_data(as_text=True).lstrip().startswith("<?xml")
    assert "<script" not in qr.get_data(as_text=True)

    wrong = browser.submit(SETTINGS, {"code": "000000"}, action=f"{SETTINGS}/confirm")
    assert wrong.status_code == 422
    assert "wrong" in wrong.get_data(as_text=True)
    session.refresh(user)
    assert not user.totp_enabled

    right = browser.submit(
        SETTINGS, {"code": twofactor.code_at(secret, frozen_now)}, action=f"{SETTINGS}/confirm"
    )
    assert right.status_code == 200
    assert right.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", right.get_data(as_text=True))
    assert len(codes) == 10
    session.refresh(user)
    assert user.totp_enabled
    stored = set(
        session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == user.id))
    )
    from p2pbank.identity.tokens import token_hash

    assert stored == {token_hash(c) for c in codes}
    assert browser.get("/dashboard").status_code == 200  # this session was re-issued
    assert other_session.get("/dashboard").status_code == 302  # others ended
    assert "10 unused recovery codes are left" in browser.get(SETTINGS).get_data(as_text=True)


def test_cancelling_a_started_enrolment(signed_in, make_user, session):
    user = make_user()
    browser = signed_in(user)
    browser.submit(SETTINGS, {}, action=f"{SETTINGS}/start")
    assert browser.submit(SETTINGS, {}, action=f"{SETTINGS}/cancel").status_code == 302
    session.refresh(user)
    assert user.totp_secret is None
    assert browser.get(f"{SETTINGS}/qr.svg").status_code == 404


def test_starting_again_when_on_is_a_conflict(signed_in, make_user):
    browser = signed_in(make_user(two_factor=True))
    assert browser.submit(SETTINGS, {}, action=f"{SETTINGS}/start").status_code == 409


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", SETTINGS),
        ("GET", f"{SETTINGS}/qr.svg"),
        ("POST", f"{SETTINGS}/start"),
        ("POST", f"{SETTINGS}/confirm"),
        ("POST", f"{SETTINGS}/cancel"),
        ("POST", f"{SETTINGS}/recovery-codes"),
        ("POST", f"{SETTINGS}/disable"),
    ],
)
def test_two_factor_settings_need_a_signed_in_person(web, method, path):
    response = web.get(path) if method == "GET" else web.submit("/login", {}, action=path)
    assert response.status_code == 302
    assert "/login?next=" in response.headers["Location"]


# --- the sign-in challenge ------------------------------------------------------------------


def test_sign_in_with_an_app_code(app, make_user, frozen_now):
    user = make_user(two_factor=True)
    browser = _password_step(app, user)
    assert browser.get("/dashboard").status_code == 302  # the password alone is not enough
    page = browser.get(CHALLENGE)
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    wrong = browser.submit(CHALLENGE, {"code": "000000"})
    assert wrong.status_code == 401
    assert "wrong" in wrong.get_data(as_text=True)
    code = _code(user)
    right = browser.submit(CHALLENGE, {"code": code})
    assert right.status_code == 302
    assert right.headers["Location"].endswith("/dashboard")
    assert browser.get("/dashboard").status_code == 200

    # the same code in another sign-in is refused: it was already used
    thief = _password_step(app, user)
    assert thief.submit(CHALLENGE, {"code": code}).status_code == 401
    assert thief.get("/dashboard").status_code == 302


def test_sign_in_keeps_where_you_were_going(app, make_user, frozen_now):
    user = make_user(two_factor=True)
    browser = _password_step(app, user, "/login?next=/settings/tokens")
    response = browser.submit(CHALLENGE, {"code": _code(user)})
    assert response.headers["Location"] == "/settings/tokens"


def test_sign_in_with_a_recovery_code_uses_it_up(app, make_user, session, frozen_now):
    user = make_user(two_factor=True)
    codes = list(SECOND_FACTOR_CODES[user.email])
    browser = _password_step(app, user)
    response = browser.submit(CHALLENGE, {"code": codes[0].lower()}, follow_redirects=True)
    assert response.status_code == 200
    assert "recovery code. 9 codes are left" in response.get_data(as_text=True)
    again = _password_step(app, user)
    assert again.submit(CHALLENGE, {"code": codes[0]}).status_code == 401
    assert again.submit(CHALLENGE, {"code": codes[1]}).status_code == 302


def test_challenge_without_a_password_step_goes_to_sign_in(web):
    response = web.get(CHALLENGE)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    posted = web.submit("/login", {"code": "123456"}, action=CHALLENGE)
    assert posted.status_code == 302 and posted.headers["Location"] == "/login"


def test_a_slow_challenge_must_start_over(app, make_user, frozen_now):
    user = make_user(two_factor=True)
    browser = _password_step(app, user)
    browser.get(CHALLENGE)
    clock.advance(timedelta(minutes=11))
    response = browser.submit(
        "/login", {"code": twofactor.code_at(user.totp_secret, clock.now())}, action=CHALLENGE
    )
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert browser.get("/dashboard").status_code == 302


def test_a_password_change_meanwhile_ends_the_challenge(app, make_user, session, frozen_now):
    user = make_user(two_factor=True)
    browser = _password_step(app, user)
    services.change_password(session, user.id, current=STRONG_PASSWORD, new="a-brand-new-secret-77")
    response = browser.submit("/login", {"code": _code(user)}, action=CHALLENGE)
    assert response.status_code == 302 and response.headers["Location"] == "/login"
    assert browser.get("/dashboard").status_code == 302


def test_repeated_wrong_codes_lock_the_challenge(app, make_user, frozen_now):
    user = make_user(two_factor=True)
    browser = _password_step(app, user)
    for attempt in range(5):
        assert browser.submit(CHALLENGE, {"code": f"{attempt:06d}"}).status_code == 401
    locked = browser.submit(CHALLENGE, {"code": _code(user)})
    assert locked.status_code == 429
    retry = locked.headers["Retry-After"]
    assert retry.isdigit() and 0 < int(retry) <= 15 * 60
    assert "Too many two-factor attempts for this account." in locked.get_data(as_text=True)
    assert browser.get("/dashboard").status_code == 302
    # a fresh password step does not reset the count for the account
    again = _password_step(app, user)
    assert again.submit(CHALLENGE, {"code": _code(user)}).status_code == 429


def test_successful_challenges_do_not_count_towards_the_lock(app, make_user, frozen_now):
    user = make_user(two_factor=True)
    for _ in range(4):  # the per-account sign-in limit is 5 per 15 minutes
        browser = _password_step(app, user)
        assert browser.submit(CHALLENGE, {"code": _code(user)}).status_code == 302


# --- recovery codes and turning it off ------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(app, signed_in, make_user, frozen_now):
    user = make_user(two_factor=True)
    old = list(SECOND_FACTOR_CODES[user.email])
    browser = signed_in(user)  # uses one recovery code
    bad = browser.submit(SETTINGS, {"code": "000000"}, action=f"{SETTINGS}/recovery-codes")
    assert bad.status_code == 422
    made = browser.submit(SETTINGS, {"code": _code(user)}, action=f"{SETTINGS}/recovery-codes")
    assert made.status_code == 200
    new = re.findall(r"<code>([A-Z0-9]{5}-[A-Z0-9]{5})</code>", made.get_data(as_text=True))
    assert len(new) == 10 and not set(new) & set(old)
    fresh = _password_step(app, user)
    assert fresh.submit(CHALLENGE, {"code": old[0]}).status_code == 401
    assert fresh.submit(CHALLENGE, {"code": new[0]}).status_code == 302


def test_a_member_turns_it_off_with_a_code(app, signed_in, make_user, session, frozen_now):
    user = make_user(two_factor=True)
    browser = signed_in(user)
    refused = browser.submit(SETTINGS, {"code": "000000"}, action=f"{SETTINGS}/disable")
    assert refused.status_code == 422
    done = browser.submit(SETTINGS, {"code": _code(user)}, action=f"{SETTINGS}/disable")
    assert done.status_code == 302
    assert browser.get("/dashboard").status_code == 200
    session.refresh(user)
    assert not user.totp_enabled
    plain = Browser(app.test_client())
    assert plain.login(user.email).headers["Location"].endswith("/dashboard")


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_auditors_and_admins_cannot_turn_it_off(signed_in, make_user, session, frozen_now, role):
    user = make_user(roles=[role])
    browser = signed_in(user)
    assert "cannot be turned off" in browser.get(SETTINGS).get_data(as_text=True)
    response = browser.submit(SETTINGS, {"code": _code(user)}, action=f"{SETTINGS}/disable")
    assert response.status_code == 403
    session.refresh(user)
    assert user.totp_enabled


# --- required for auditors and admins -------------------------------------------------------


@pytest.mark.parametrize("role", ["auditor", "admin"])
def test_privileged_people_without_it_are_sent_to_enrolment(
    app, make_user, session, api_token, frozen_now, role
):
    user = make_user(roles=[role], two_factor=False)
    browser = Browser(app.test_client())
    assert browser.login(user.email).status_code == 302  # no challenge: nothing to ask yet
    for path in ["/dashboard", "/settings", "/settings/tokens", "/", "/admin/people"]:
        response = browser.get(path)
        assert response.status_code == 303, path
        assert response.headers["Location"] == SETTINGS
    page = browser.get(SETTINGS)
    assert page.status_code == 200
    assert "requires two-factor sign-in" in page.get_data(as_text=True)

    refused = app.test_client().get("/api/v1/me", headers=api_token(user, "read"))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert "two-factor" in refused.json["detail"]

    browser.submit(SETTINGS, {}, action=f"{SETTINGS}/start")
    session.refresh(user)
    confirmed = browser.submit(
        SETTINGS,
        {"code": twofactor.code_at(user.totp_secret, clock.now())},
        action=f"{SETTINGS}/confirm",
    )
    assert confirmed.status_code == 200
    assert browser.get("/dashboard").status_code == 200
    assert app.test_client().get("/api/v1/me", headers=api_token(user, "read")).status_code == 200
    assert browser.logout().status_code == 302


def test_privileged_people_without_it_can_still_sign_out(app, make_user):
    user = make_user(roles=["admin"], two_factor=False)
    browser = Browser(app.test_client())
    browser.login(user.email)
    response = browser.submit(SETTINGS, {}, action="/logout")
    assert response.status_code == 302
    assert browser.get("/dashboard").headers["Location"].startswith("/login")


def test_members_are_not_pushed_to_enrol(signed_in, make_user):
    browser = signed_in(make_user(roles=["lender", "borrower"]))
    assert browser.get("/dashboard").status_code == 200
