"""Who may do what: every route, asked by four callers.

    anonymous  nobody signed in / no API token
    other      a member with the same roles as the owner, who does not own the object
    owner      the member whose object it is (for routes without an object: any member)
    admin      an admin (with two-factor sign-in, as admins must have)

Each ROWS entry is one route and the status each caller gets. Pages are called with a
signed-in browser (CSRF token included), API routes with a write token. `LOGIN` means
"sent to the sign-in page". Every refused call must write nothing, and nothing the
owner's objects hold privately (see `Objects.private`) may reach `other` or `anonymous`.

Adding a route? Add a row here (`test_every_route_has_a_row` fails until you do). Rows
that need objects (a loan, a campaign, a token) get them from an `objects` function,
made through services, before the callers ask.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import func, select

from p2pbank.db import Base
from p2pbank.identity import services as identity
from p2pbank.models import load_all
from tests.conftest import STRONG_PASSWORD, Browser

ANONYMOUS, OTHER, OWNER, ADMIN = "anonymous", "other", "owner", "admin"
CALLERS = (ANONYMOUS, OTHER, ADMIN, OWNER)  # the owner goes last: they may change things
LOGIN = "login"  # a 302 to the sign-in page


@dataclass
class World:
    """The people of one matrix row and the session their objects are made in."""

    session: object
    owner: object
    other: object
    admin: object


@dataclass
class Objects:
    """What an `objects` function made: path placeholders, and private strings that only
    the owner (and, where a row allows, the admin) may see."""

    path: dict[str, object] = field(default_factory=dict)
    private: list[str] = field(default_factory=list)


def no_objects(_world: World) -> Objects:
    return Objects()


@dataclass(frozen=True)
class Row:
    method: str
    path: str  # as in url_map, with {placeholders} instead of <converters>
    anonymous: int | str
    other: int | str
    owner: int | str
    admin: int | str
    objects: Callable[[World], Objects] = no_objects
    data: dict = field(default_factory=dict)  # form fields or JSON body
    roles: tuple[str, ...] = ()  # roles of owner and other (KYC verified)
    admin_sees_private: bool = False

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"


# --- objects -------------------------------------------------------------------------------


def owner_token(world: World) -> Objects:
    row, secret = identity.create_api_token(
        world.session, world.owner.id, name="owner-private-laptop", scope="read"
    )
    return Objects(path={"token_id": row.id}, private=["owner-private-laptop", secret])


def owner_email(world: World) -> Objects:
    return Objects(private=[world.owner.email])


# --- the table -----------------------------------------------------------------------------

NEW_PASSWORD = "a-brand-new-secret-77"

ROWS: list[Row] = [
    # public pages
    Row("GET", "/", 200, 200, 200, 200),
    Row("GET", "/login", 200, 200, 200, 200),
    Row("GET", "/signup", 200, 200, 200, 200),
    Row("GET", "/healthz", 200, 200, 200, 200),
    Row("GET", "/readyz", 200, 200, 200, 200),
    # a member's own pages
    Row("GET", "/dashboard", LOGIN, 200, 200, 200, objects=owner_email),
    Row("POST", "/logout", LOGIN, 302, 302, 302),
    Row("GET", "/settings/password", LOGIN, 200, 200, 200, objects=owner_email),
    Row(
        "POST",
        "/settings/password",
        LOGIN,
        302,
        302,
        302,
        data={"current_password": STRONG_PASSWORD, "new_password": NEW_PASSWORD},
    ),
    # API: who am I, my tokens
    Row("GET", "/api/v1/openapi.json", 200, 200, 200, 200),
    Row("GET", "/api/v1/me", 401, 200, 200, 200, objects=owner_email),
    Row("GET", "/api/v1/tokens", 401, 200, 200, 200, objects=owner_token),
    Row("POST", "/api/v1/tokens", 401, 201, 201, 201, data={"name": "new", "scope": "read"}),
    Row("DELETE", "/api/v1/tokens/{token_id}", 401, 404, 204, 404, objects=owner_token),
]

# Routes that are not about whose data it is, with the reason; everything else needs a row.
EXEMPT: dict[tuple[str, str], str] = {
    ("GET", "/static/{filename}"): "the package's CSS, JS and images",
    ("POST", "/signup"): "creates the caller's account: tests/web/test_auth.py",
    ("POST", "/login"): "authentication itself: tests/web/test_auth.py",
}


# --- the machinery -------------------------------------------------------------------------


def row_counts(session) -> dict[str, int]:
    load_all()
    return {
        t.name: session.scalar(select(func.count()).select_from(t))
        for t in Base.metadata.sorted_tables
    }


def _ask(row: Row, caller: str, who: dict, path: str, client_for):
    if row.is_api:
        client = client_for(ANONYMOUS).client
        headers = who.get(caller, {})
        body = row.data if row.method not in ("GET", "DELETE") else None
        return client.open(path, method=row.method, json=body, headers=headers)
    browser: Browser = client_for(caller)
    if row.method == "GET":
        return browser.get(path)
    csrf_page = "/login" if caller == ANONYMOUS else "/dashboard"
    return browser.submit(csrf_page, dict(row.data), action=path)


def _outcome(response) -> int | str:
    location = response.headers.get("Location", "")
    if response.status_code == 302 and "/login" in location and "next=" in location:
        return LOGIN
    return response.status_code


@pytest.mark.parametrize("row", ROWS, ids=[r.id for r in ROWS])
def test_route(row: Row, app, session, make_user, signed_in, api_token):
    owner = make_user(roles=row.roles, kyc="verified", name="Owner")
    other = make_user(roles=row.roles, kyc="verified", name="Other")
    admin = make_user(roles=("admin",), kyc="verified", name="Admin")
    people = {OWNER: owner, OTHER: other, ADMIN: admin}
    made = row.objects(World(session, owner, other, admin))
    path = row.path.format(**made.path)

    tokens = {name: api_token(person, "write") for name, person in people.items()}
    browsers: dict[str, Browser] = {}

    def client_for(caller: str) -> Browser:
        if caller not in browsers:
            browsers[caller] = (
                Browser(app.test_client()) if caller == ANONYMOUS else signed_in(people[caller])
            )
        return browsers[caller]

    expected = {
        ANONYMOUS: row.anonymous,
        OTHER: row.other,
        OWNER: row.owner,
        ADMIN: row.admin,
    }
    problems = []
    for caller in CALLERS:
        if not row.is_api:
            client_for(caller)  # sign in before counting rows
        before = row_counts(session)
        response = _ask(row, caller, tokens, path, client_for)
        got = _outcome(response)
        if got != expected[caller]:
            problems.append(f"{caller}: expected {expected[caller]}, got {got}")
        refused = got == LOGIN or (isinstance(got, int) and got >= 400)
        session.expire_all()
        if refused and row_counts(session) != before:
            problems.append(f"{caller}: refused, but rows changed")
        shown = response.get_data(as_text=True)
        private_to = (ANONYMOUS, OTHER) + (() if row.admin_sees_private else (ADMIN,))
        if caller in private_to:
            leaked = [s for s in made.private if s in shown]
            if leaked:
                problems.append(f"{caller} sees private data: {leaked}")
    assert not problems, "\n".join(problems)


def _rule_path(rule) -> str:
    return re.sub(r"<(?:[^:<>]+:)?([^<>]+)>", r"{\1}", rule.rule)


def test_every_route_has_a_row(app):
    covered = {(r.method, r.path) for r in ROWS} | set(EXEMPT)
    missing = sorted(
        (method, _rule_path(rule))
        for rule in app.url_map.iter_rules()
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"})
        if (method, _rule_path(rule)) not in covered
    )
    assert not missing, "routes without a row in the authorization matrix:\n" + "\n".join(
        f"  {m} {p}" for m, p in missing
    )


def test_rows_name_real_routes(app):
    """A row for a route that does not exist would pass by answering 404."""
    real = {
        (method, _rule_path(rule))
        for rule in app.url_map.iter_rules()
        for method in rule.methods or ()
    }
    stale = [r.id for r in ROWS if (r.method, r.path) not in real]
    assert not stale, f"rows for routes that do not exist: {stale}"
