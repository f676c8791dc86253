"""Shared steps for every feature: people, signing in, pages and the API.

A scenario's state lives in the `story` fixture: the people by first name, a browser per
person (each with its own cookies), API tokens, and the last answer anyone got. Steps of a
domain live in tests/bdd/test_<domain>.py; steps more than one domain needs live here.

People are addressed by first name in the features; their e-mail address is
`<name in lower case>@example.test` and their password is the suite's STRONG_PASSWORD.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pytest
from pytest_bdd import given, then, when

from tests.support.money import deposit
from tests.support.pages import Browser
from tests.support.stories import MONTHS, email_of, parse_roles, phrase, shown_money


@dataclass
class Story:
    """What has happened so far in one scenario."""

    app: object
    people: dict[str, object] = field(default_factory=dict)
    browsers: dict[str, Browser] = field(default_factory=dict)
    tokens: dict[str, dict] = field(default_factory=dict)
    last: object = None  # the last response anyone got
    last_by: dict[str, object] = field(default_factory=dict)  # the last response per person
    notes: dict[str, dict] = field(default_factory=dict)  # per person, for domain steps

    def person(self, name: str):
        assert name in self.people, f"nobody called {name} was introduced in this scenario"
        return self.people[name]

    def browser(self, name: str) -> Browser:
        """The person's own browser: cookies are never shared between people."""
        if name not in self.browsers:
            self.browsers[name] = Browser(self.app.test_client())  # type: ignore[attr-defined]
        return self.browsers[name]

    def note(self, name: str) -> dict:
        """A person's scratch pad for domain steps (an authenticator secret, an order id)."""
        return self.notes.setdefault(name, {})

    def remember(self, name: str, response) -> None:
        self.last = response
        self.last_by[name] = response

    def text(self, name: str | None = None) -> str:
        response = self.last_by[name] if name else self.last
        assert response is not None, "nobody has asked for anything yet"
        return response.get_data(as_text=True)


@pytest.fixture
def story(app) -> Story:
    return Story(app=app)


# --- time ----------------------------------------------------------------------------------


@given(phrase("the time is {day:d} {month} {year:d}, {hour:d}:{minute:d}"))
def _the_time_is(day, month, year, hour, minute):
    """Freezes p2pbank.clock (UTC); the suite's autouse fixture unfreezes it afterwards."""
    from datetime import UTC, datetime

    from p2pbank import clock

    clock.set_now(datetime(year, MONTHS[month], day, hour, minute, tzinfo=UTC))


@given(phrase("{count:d} {unit} pass"))
@when(phrase("{count:d} {unit} pass"))
@given(phrase("{count:d} {unit} passes"))
@when(phrase("{count:d} {unit} passes"))
def _time_passes(count, unit):
    from datetime import timedelta

    from p2pbank import clock

    units = {"second": "seconds", "minute": "minutes", "hour": "hours", "day": "days"}
    key = units.get(unit.rstrip("s"), "")
    assert key, f"unknown unit {unit!r}"
    clock.set_now(clock.now() + timedelta(**{key: count}))


# --- people --------------------------------------------------------------------------------


def _introduce(story: Story, make_user, name: str, roles: list[str], kyc: str):
    user = make_user(roles=roles, kyc=kyc, email=email_of(name), name=name)
    story.people[name] = user
    return user


@given(phrase("a member {name:Name} with roles {roles:Roles}"))
@given(phrase("a member {name:Name} with the role {roles:Roles}"))
def _member_with_roles(story, make_user, name, roles):
    _introduce(story, make_user, name, parse_roles(roles), "unverified")


@given(phrase("a member {name:Name} with no roles"))
@given(phrase("a member {name:Name}"))
def _member(story, make_user, name):
    _introduce(story, make_user, name, [], "unverified")


@given(phrase("a verified member {name:Name} with roles {roles:Roles}"))
@given(phrase("a verified member {name:Name} with the role {roles:Roles}"))
def _verified_member(story, make_user, name, roles):
    """A member whose identity check (KYC) is done: they may borrow and withdraw."""
    _introduce(story, make_user, name, parse_roles(roles), "verified")


@given(phrase("an admin {name:Name}"))
def _admin(story, make_user, name):
    _introduce(story, make_user, name, ["admin"], "verified")


@given(phrase("an auditor {name:Name}"))
def _auditor(story, make_user, name):
    _introduce(story, make_user, name, ["auditor"], "verified")


@given(phrase("{name:Name} is signed in"))
def _is_signed_in(story, name):
    response = story.browser(name).login(story.person(name).email)
    assert response.status_code == 302, response.get_data(as_text=True)
    story.remember(name, response)


@given(phrase("{name:Name} has a {scope} API token"))
def _has_token(story, api_token, name, scope):
    assert scope in ("read", "write", "read-only"), scope
    story.tokens[name] = api_token(story.person(name), "read" if scope == "read-only" else scope)


# --- signing in and out --------------------------------------------------------------------


@when(phrase("{name:Name} signs in"))
def _signs_in(story, name):
    story.remember(name, story.browser(name).login(story.person(name).email))


@when(phrase('{name:Name} signs in with the password "{password}"'))
def _signs_in_with(story, name, password):
    story.remember(name, story.browser(name).login(story.person(name).email, password))


@when(phrase("{name:Name} signs out"))
def _signs_out(story, name):
    story.remember(name, story.browser(name).logout(follow_redirects=True))


# --- pages ---------------------------------------------------------------------------------


@when(phrase("{name:Name} opens {path}"))
def _opens(story, name, path):
    assert path.startswith("/"), f"give a path such as /dashboard, not {path!r}"
    story.remember(name, story.browser(name).get(path, follow_redirects=True))


@then(phrase("{name:Name} sees the dashboard"))
@then(phrase("{name:Name} sees their dashboard"))
@then(phrase("{name:Name} sees her dashboard"))
@then(phrase("{name:Name} sees his dashboard"))
def _sees_dashboard(story, name):
    page = story.browser(name).get("/dashboard")
    assert page.status_code == 200, f"{name} is not signed in (status {page.status_code})"
    assert f"Hello, {story.person(name).display_name}" in page.get_data(as_text=True)
    # Not remembered: the page that led here (with its flash message) stays the last one.


@then(phrase("{name:Name} is not signed in"))
@then(phrase("{name:Name} is signed out"))
def _not_signed_in(story, name):
    page = story.browser(name).get("/dashboard")
    assert page.status_code == 302, f"{name} still reaches the dashboard"
    assert "/login" in page.headers["Location"]


@then(phrase('{name:Name} sees "{text}"'))
@then(phrase('{name:Name} is told "{text}"'))
def _sees(story, name, text):
    assert text in story.text(name), f"{text!r} is not on the page {name} sees"


@then(phrase('{name:Name} does not see "{text}"'))
def _does_not_see(story, name, text):
    assert text not in story.text(name), f"{text!r} is on the page {name} sees"


@then(phrase("the answer is {status:d}"))
def _answer_is(story, status):
    assert story.last.status_code == status, story.text()


# --- API -----------------------------------------------------------------------------------


@when(phrase("{name:Name} asks the API for {path}"))
def _api_get(story, name, path):
    headers = story.tokens.get(name, {})
    story.remember(name, story.browser(name).client.get(path, headers=headers))


@then(phrase("the API answers {status:d}"))
def _api_answers(story, status):
    assert story.last.status_code == status, story.text()
    if status >= 400:
        assert story.last.mimetype == "application/problem+json"


# --- money in wallets (the ledger; other domains' features use these too) -----------------
#
# Amounts are written "EUR 25.00" ({amount:Amount} -> 2500 minor units). A deposit here is a
# posted entry from the platform's gateway clearing account, the way a settled card payment
# ends up in the ledger, so features of any domain can start with money in a wallet.


@given(phrase("{name:Name} has EUR {amount:Amount} in the wallet"))
@given(phrase("{name:Name} has EUR {amount:Amount} in her wallet"))
@given(phrase("{name:Name} has EUR {amount:Amount} in his wallet"))
def _has_money(story, session, name, amount):
    deposit(session, story.person(name).id, amount, memo="Card deposit")


@when(phrase("a deposit of EUR {amount:Amount} reaches {name:Name}'s wallet"))
def _deposit_reaches(story, session, name, amount):
    deposit(session, story.person(name).id, amount, memo="Card deposit")


@then(
    phrase(
        "{name:Name}'s wallet shows available EUR {available:Amount}, "
        "on hold EUR {held:Amount} and posted EUR {posted:Amount}"
    )
)
def _wallet_shows(story, name, available, held, posted):
    """What the person sees on their own wallet page (signing them in if needed)."""
    browser = story.browser(name)
    page = browser.get("/wallet")
    if page.status_code == 302:
        browser.login(story.person(name).email)
        page = browser.get("/wallet")
    assert page.status_code == 200, page.status_code
    html = page.get_data(as_text=True)
    for label, minor in (("available", available), ("held", held), ("posted", posted)):
        shown = re.search(rf'data-balance="{label}">([^<]*)<', html)
        assert shown, f"no {label} balance on {name}'s wallet page"
        assert shown.group(1) == shown_money(story, minor), (label, shown.group(1))
    story.remember(name, page)


@then(phrase("the ledger check finds nothing wrong"))
def _ledger_check_passes(session):
    from p2pbank.ledger.checks import check_ledger

    report = check_ledger(session)
    assert report.ok, report.violations
