"""Pages for tests: a test client that fills in forms the way a browser does."""

from __future__ import annotations

import re

from tests.support.people import SECOND_FACTOR_CODES, STRONG_PASSWORD

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token of a page's form."""
    match = _CSRF.search(html)
    assert match, "page has no CSRF token"
    return match.group(1)


class Browser:
    """A test client that submits forms the way a browser does, CSRF token included."""

    def __init__(self, client):
        self.client = client

    def get(self, url, **kw):
        return self.client.get(url, **kw)

    def submit(self, page_url: str, data: dict, action: str | None = None, **kw):
        page = self.client.get(page_url)
        token = csrf_from(page.get_data(as_text=True))
        return self.client.post(action or page_url, data={**data, "csrf_token": token}, **kw)

    def login(self, email: str, password: str = STRONG_PASSWORD, second_factor: bool = True):
        """Sign in; for people made by make_user with two-factor sign-in, answer the challenge
        with one of their recovery codes (unless second_factor=False)."""
        response = self.submit("/login", {"email": email, "password": password})
        codes = SECOND_FACTOR_CODES.get(email.strip().lower())
        location = response.headers.get("Location", "")
        if second_factor and codes and location.split("?")[0].endswith("/login/two-factor"):
            response = self.submit("/login/two-factor", {"code": codes.pop()})
        return response

    def logout(self, **kw):
        return self.submit("/dashboard", {}, action="/logout", **kw)


def assert_problem(response, status: int) -> dict:
    """The response is an RFC 9457 problem with that status; returns its body."""
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert {"type", "title", "status", "detail", "instance"} <= body.keys()
    assert body["status"] == status
    return body


def sign_out(page) -> None:
    """Open the person menu under one's name in the top bar, then sign out."""
    page.locator('details[data-menu="person"] > summary').click()
    page.get_by_role("button", name="Sign out").click()
