"""Sign-up, sign-in, sign-out and password change through the real pages."""

from __future__ import annotations

from sqlalchemy import func, select

from p2pbank.identity.models import RoleGrant, User
from tests.dutch import speak_pending_dutch
from tests.support.mail import mails_to, sign_up_path
from tests.support.pages import Browser
from tests.support.people import STRONG_PASSWORD


def _users(session) -> int:
    return session.scalar(select(func.count(User.id)))


def _sign_up(web, email: str, headers=None, **fields):
    data = {"email": email, "display_name": "Nina", "password": STRONG_PASSWORD, **fields}
    return web.submit("/signup", data, headers=headers or {})


def test_sign_up_mails_a_link_that_creates_the_account_and_signs_in(web, session):
    response = _sign_up(web, "Nina@Example.test", roles=["lender", "borrower"])
    assert response.status_code == 200
    assert "Check your mail" in response.get_data(as_text=True)
    assert session.scalar(select(User).where(User.email == "nina@example.test")) is None
    assert web.get("/dashboard").status_code == 302  # not signed in before the link
    link = sign_up_path(session, "nina@example.test")
    page = web.get(link)
    assert page.status_code == 200 and "Create my account" in page.get_data(as_text=True)
    response = web.submit(link, {})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/dashboard")
    page = web.get("/dashboard").get_data(as_text=True)
    assert "Hello, Nina" in page and "Welcome to p2pbank, Nina." in page
    user = session.scalar(select(User).where(User.email == "nina@example.test"))
    assert user.role_names == {"lender", "borrower"}
    grants = session.scalars(select(RoleGrant).where(RoleGrant.user_id == user.id)).all()
    assert sorted(g.role for g in grants) == ["borrower", "lender"]
    assert user.password_hash.startswith("$argon2id$")
    assert web.submit(link, {}).status_code == 410  # the link works once


def test_sign_up_answers_the_same_whether_or_not_the_address_has_an_account(
    app, web, session, make_user
):
    owner = make_user(email="taken@example.test", name="Tess")
    users = _users(session)
    taken = _sign_up(Browser(app.test_client()), "taken@example.test")
    free = _sign_up(Browser(app.test_client()), "free@example.test")
    assert taken.status_code == free.status_code == 200
    assert taken.get_data(as_text=True).replace("taken@", "X@") == free.get_data(
        as_text=True
    ).replace("free@", "X@")
    assert _users(session) == users  # no account made either way, yet
    (warning,) = mails_to(session, owner.email)[-1:]
    assert warning.subject == "Someone tried to sign up with your address"
    assert "http://127.0.0.1:5000/password/forgot" in warning.body
    assert "/signup/confirm/" not in warning.body
    assert sign_up_path(session, "free@example.test")


def test_a_sign_up_link_for_an_address_taken_meanwhile_does_not_work(web, session, make_user):
    _sign_up(web, "late@example.test")
    link = sign_up_path(session, "late@example.test")
    make_user(email="late@example.test")  # e.g. an admin made it by hand
    assert web.submit(link, {}).status_code == 410
    assert web.get("/dashboard").status_code == 302


def test_an_expired_or_replaced_sign_up_link_does_not_work(web, session):
    from datetime import timedelta

    from p2pbank import clock

    _sign_up(web, "slow@example.test")
    first = sign_up_path(session, "slow@example.test")
    _sign_up(web, "slow@example.test")
    second = sign_up_path(session, "slow@example.test")
    assert web.get(first).status_code == 410  # only the newest link works
    clock.set_now(clock.now() + timedelta(days=1, minutes=1))
    assert web.get(second).status_code == 410
    assert web.get("/signup/confirm/not-a-real-token").status_code == 410


def test_weak_password_is_refused_and_nothing_written(web, session):
    before = _users(session)
    response = web.submit(
        "/signup", {"email": "a@example.test", "display_name": "A", "password": "password1234"}
    )
    assert response.status_code == 422
    assert "too common" in response.get_data(as_text=True)
    assert _users(session) == before


def test_short_password_is_refused(web, session):
    response = web.submit(
        "/signup", {"email": "a@example.test", "display_name": "A", "password": "Sh0rt-pass"}
    )
    assert response.status_code == 422
    assert "at least 12 characters" in response.get_data(as_text=True)


def test_privileged_role_cannot_be_self_assigned(web, session):
    before = _users(session)
    response = web.submit(
        "/signup",
        {
            "email": "a@example.test",
            "display_name": "A",
            "password": STRONG_PASSWORD,
            "roles": ["admin"],
        },
    )
    assert response.status_code == 422
    assert _users(session) == before


def test_sign_in_wrong_password_then_right(web, make_user):
    user = make_user()
    bad = web.login(user.email, "wrong-password-123")
    assert bad.status_code == 401
    assert "wrong" in bad.get_data(as_text=True)
    assert web.get("/dashboard").status_code == 302  # still anonymous
    good = web.login(user.email)
    assert good.status_code == 302
    assert web.get("/dashboard").status_code == 200


def test_sign_out_ends_the_session(signed_in, make_user):
    b = signed_in(make_user())
    assert b.get("/dashboard").status_code == 200
    assert b.logout().status_code == 302
    assert b.get("/dashboard").status_code == 302


def test_post_without_csrf_token_is_refused(client, make_user, session):
    user = make_user()
    response = client.post("/login", data={"email": user.email, "password": STRONG_PASSWORD})
    assert response.status_code == 400
    assert "expired" in response.get_data(as_text=True)
    before = _users(session)
    response = client.post(
        "/signup",
        data={"email": "x@example.test", "display_name": "X", "password": STRONG_PASSWORD},
    )
    assert response.status_code == 400
    assert _users(session) == before


def test_password_change_ends_other_sessions(app, signed_in, make_user):
    user = make_user()
    first = signed_in(user)
    second = signed_in(user)
    response = first.submit(
        "/settings/password",
        {"current_password": STRONG_PASSWORD, "new_password": "a-brand-new-secret-77"},
    )
    assert response.status_code == 302
    assert first.get("/dashboard").status_code == 200
    assert second.get("/dashboard").status_code == 302  # the old session is over


def test_open_redirect_after_login_is_refused(web, make_user):
    user = make_user()
    page = web.get("/login?next=//evil.example/")
    from tests.support.pages import csrf_from

    response = web.client.post(
        "/login?next=//evil.example/",
        data={
            "email": user.email,
            "password": STRONG_PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )
    assert response.headers["Location"].endswith("/dashboard")


def test_health_and_readiness(client):
    assert client.get("/healthz").json == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["database"] == "up", ready.json


def test_security_headers_on_pages(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Referrer-Policy"]
    assert response.headers["X-Request-Id"]
    assert "Strict-Transport-Security" not in response.headers
    secure = client.get("/", base_url="https://localhost")
    assert "max-age" in secure.headers["Strict-Transport-Security"]


def _login_with_next(web, user, next_value: str):
    from tests.support.pages import csrf_from

    page = web.get("/login")
    return web.client.post(
        "/login",
        query_string={"next": next_value},
        data={
            "email": user.email,
            "password": STRONG_PASSWORD,
            "csrf_token": csrf_from(page.get_data(as_text=True)),
        },
    )


def test_next_with_a_tab_or_line_break_stays_on_this_site(app, make_user):
    user = make_user()
    for hostile in ("/\t/evil.example", "/\n/evil.example", "/\r\nSet-Cookie: x=1", "/\\evil"):
        response = _login_with_next(Browser(app.test_client()), user, hostile)
        assert response.status_code == 302, (hostile, response.status_code)
        assert response.headers["Location"] == "/dashboard", hostile
    kept = _login_with_next(Browser(app.test_client()), user, "/campaigns?page=2")
    assert kept.headers["Location"] == "/campaigns?page=2"


def test_the_sign_up_mail_speaks_the_language_of_the_page(web, session, monkeypatch):
    speak_pending_dutch(monkeypatch)
    dutch = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}
    assert _sign_up(web, "nina@example.test", headers=dutch).status_code == 200
    assert _sign_up(web, "nora@example.test").status_code == 200
    (mail,) = mails_to(session, "nina@example.test")
    assert mail.subject == "Rond je aanmelding bij p2pbank af"
    assert "http://127.0.0.1:5000/signup/confirm/" in mail.body
    (mail,) = mails_to(session, "nora@example.test")
    assert mail.subject == "Finish signing up for p2pbank"
