"""A real browser: sign up (through the mailed link), sign out, sign in, see the dashboard,
keep a screenshot."""

from __future__ import annotations

import re
import uuid

import pytest
from playwright.sync_api import expect

from tests.support.mail import sign_up_path
from tests.support.pages import sign_out
from tests.support.people import STRONG_PASSWORD

pytestmark = pytest.mark.browser

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _unique_email() -> str:
    return f"nina-{uuid.uuid4().hex[:12]}@example.test"


def _sign_up(page, live_server, email: str, name: str = "Nina") -> None:
    """Fill in the form, then open the link the server mailed and confirm, as a person does."""
    page.goto("/")
    page.get_by_role("link", name="Create an account").click()
    expect(page).to_have_url(re.compile(r"/signup$"))
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Name shown to others").fill(name)
    page.get_by_label("Password (at least 12 characters)").fill(STRONG_PASSWORD)
    page.get_by_label("lend money").check()
    page.get_by_label("borrow money").check()
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Check your mail")
    session = live_server.app.extensions["p2pbank.sessionmaker"]()
    try:
        link = sign_up_path(session, email, base=re.escape(live_server.url))
    finally:
        session.close()
    page.goto(link)
    page.get_by_role("button", name="Create my account").click()


def test_sign_up_sign_in_and_see_the_dashboard(page, live_server, tmp_path):
    email = _unique_email()
    _sign_up(page, live_server, email)
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Nina")
    expect(page.get_by_role("status")).to_contain_text("Welcome to p2pbank, Nina.")

    sign_out(page)
    expect(page.get_by_role("status")).to_contain_text("You are signed out.")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))

    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Hello, Nina")
    roles = page.locator(".tag")
    expect(roles).to_have_text(["borrower", "lender"])

    shot = tmp_path / "dashboard.png"
    page.screenshot(path=str(shot), full_page=True)
    data = shot.read_bytes()
    assert len(data) > len(PNG_SIGNATURE) and data.startswith(PNG_SIGNATURE)
    assert page.console_errors == []  # no CSP violations, no failed scripts or styles


def test_the_session_cookie_is_http_only_and_same_site(page, live_server):
    _sign_up(page, live_server, _unique_email(), name="Cookie")
    expect(page).to_have_url(re.compile(r"/dashboard$"))
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "session"]
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Lax"
    # scripts cannot read it
    assert "session=" not in page.evaluate("document.cookie")


def test_wrong_password_keeps_the_visitor_out(page, live_server):
    email = _unique_email()
    _sign_up(page, live_server, email, name="Wrong")
    sign_out(page)
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill("not-the-password-1")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_have_text("E-mail address or password is wrong.")
    page.goto("/dashboard")
    expect(page).to_have_url(re.compile(r"/login"))
