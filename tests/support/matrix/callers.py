"""The matrix's machinery: the people of one test, asking a row's route as each caller and
checking the status, that a refusal wrote nothing, and that nothing private leaked."""

from __future__ import annotations

from dataclasses import replace

from tests.support.database import row_counts
from tests.support.matrix.rows import (
    ADMIN,
    ANONYMOUS,
    AUDITOR,
    CALLERS,
    LOGIN,
    OTHER,
    OWNER,
    Objects,
    Row,
    World,
)
from tests.support.pages import Browser


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


class Callers:
    """The three people of a test, their API tokens and their (signed-in) browsers."""

    def __init__(
        self,
        app,
        session,
        make_user,
        signed_in,
        api_token,
        roles=(),
        kyc="verified",
        auditor=False,
    ):
        self.app = app
        self.session = session
        self.signed_in = signed_in
        owner = make_user(roles=roles, kyc=kyc, name="Owner")
        other = make_user(roles=roles, kyc=kyc, name="Other")
        admin = make_user(roles=("admin",), kyc="verified", name="Admin")
        self.world = World(session, owner, other, admin)
        self.people = {OWNER: owner, OTHER: other, ADMIN: admin}
        if auditor:
            self.people[AUDITOR] = make_user(roles=("auditor",), kyc="verified", name="Auditor")
        self.tokens = {name: api_token(person, "write") for name, person in self.people.items()}
        self.browsers: dict[str, Browser] = {}

    def browser(self, caller: str) -> Browser:
        if caller not in self.browsers:
            self.browsers[caller] = (
                Browser(self.app.test_client())
                if caller == ANONYMOUS
                else self.signed_in(self.people[caller])
            )
        return self.browsers[caller]

    def check(self, row: Row, made: Objects | None = None) -> list[str]:
        """Ask the row's route as each caller; return what went against the table.
        `made`: the row's objects when they were made already (rows reading the same ones)."""
        made = made if made is not None else row.objects(self.world)
        path = row.path.format(**made.path)
        # Form fields may name the objects too, e.g. {"payment_id": "{payment_id}"}.
        data = {k: v.format(**made.path) if isinstance(v, str) else v for k, v in row.data.items()}
        row = replace(row, data=data)
        expected = {
            ANONYMOUS: row.anonymous,
            OTHER: row.other,
            OWNER: row.owner,
            ADMIN: row.admin,
            AUDITOR: row.auditor,
        }
        problems = []
        for caller in CALLERS:
            if expected[caller] is None:
                continue
            if not row.is_api:
                self.browser(caller)  # sign in before counting rows
            before = row_counts(self.session)
            response = _ask(row, caller, self.tokens, path, self.browser)
            got = _outcome(response)
            if got != expected[caller]:
                problems.append(f"{row.id}: {caller}: expected {expected[caller]}, got {got}")
            refused = got == LOGIN or (isinstance(got, int) and got >= 400)
            self.session.expire_all()
            if refused and row_counts(self.session) != before:
                problems.append(f"{row.id}: {caller}: refused, but rows changed")
            shown = response.get_data(as_text=True)
            private_to = (ANONYMOUS, OTHER) + (() if row.admin_sees_private else (ADMIN,))
            if caller in private_to:
                leaked = [s for s in made.private if s in shown]
                if leaked:
                    problems.append(f"{row.id}: {caller} sees private data: {leaked}")
        return problems
