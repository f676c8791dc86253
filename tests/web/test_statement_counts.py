"""SQL statements per signed-in page do not grow with what the page lists.

Each page is read twice by the same member: once with a small world and once after more
listings, loan parts, wallet movements, campaigns and members were added. A page that
runs a query per row (an N+1) reads more statements the second time and fails here,
loudly, with the count of each.
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.support.crowdfunding import an_initiator, live
from tests.support.lending import borrower, lender, listing, order
from tests.support.money import deposit

PAGES = (
    "/lending/",
    "/dashboard",
    "/lending/lend",
    "/wallet",
    "/campaigns",
    "/lending/borrow",
    "/trust/members",
)


@pytest.fixture
def statements(connection):
    """A counter of the statements sent over the test's connection."""
    seen: list[str] = []

    def _count(_conn, _cursor, statement, *_args) -> None:
        seen.append(statement)

    event.listen(connection, "before_cursor_execute", _count)
    yield seen
    event.remove(connection, "before_cursor_execute", _count)


def grow(session, make_user, lena, n: int) -> None:
    """n loans Lena's order funds, n more open listings, n deposits to Lena's wallet, n
    more live campaigns by n more initiators."""
    for i in range(n):
        listing(session, borrower(make_user, session, f"Funded {i}", money=5_000))
        deposit(session, lena.id, 10_000)
        live(session, an_initiator(make_user, f"Initiator {i}"), title=f"Street oven {i}")
    order(session, lena, amount=100_000 * n, max_per_borrower_minor=100_000)
    for i in range(n):
        listing(session, borrower(make_user, session, f"Open {i}", money=5_000))


def test_signed_in_pages_read_a_fixed_number_of_statements(
    session, make_user, signed_in, statements, frozen_now
):
    lena = lender(make_user, session, "Lena")
    grow(session, make_user, lena, 2)
    browser = signed_in(lena)
    counts: dict[str, list[int]] = {page: [] for page in PAGES}
    for size in ("small", "large"):
        if size == "large":
            grow(session, make_user, lena, 5)
        for page in PAGES:
            browser.get(page)  # first read warms per-process caches
            statements.clear()
            response = browser.get(page)
            assert response.status_code == 200, page
            counts[page].append(len(statements))
    large = {page: browser.get(page).get_data(as_text=True) for page in PAGES}
    assert "Street oven 4" in large["/campaigns"]  # the pages do list what was added
    assert large["/lending/"].count("Open ") >= 5
    assert large["/lending/lend"].count("data-part=") >= 7
    growing = {page: c for page, c in counts.items() if c[1] > c[0]}
    assert not growing, f"statements grow with the rows a page lists (small, large): {growing}"
