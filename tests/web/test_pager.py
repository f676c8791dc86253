"""The marketplace pages in SQL and shows a pager that keeps the filters."""

from __future__ import annotations

import re

from tests.support.lending import borrower, lender, listing


def test_marketplace_pages_through_listings_keeping_its_filters(
    session, make_user, signed_in, frozen_now
):
    for i in range(5):
        listing(session, borrower(make_user, session, f"Bo {i}"), amount=100_000 + i)
    browser = signed_in(lender(make_user, session))

    first = browser.get("/lending/?per_page=2&term_months=12").get_data(as_text=True)
    assert "5 listings" in first
    assert len(re.findall(r'data-listing="', first)) == 2
    assert "Page 1 of 3" in first
    next_link = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    assert "term_months=12" in next_link and "page=2" in next_link
    assert 'rel="prev"' not in first

    last = browser.get("/lending/?per_page=2&term_months=12&page=3").get_data(as_text=True)
    assert len(re.findall(r'data-listing="', last)) == 1
    assert "Page 3 of 3" in last and 'rel="prev"' in last and 'rel="next"' not in last

    one_page = browser.get("/lending/").get_data(as_text=True)
    assert 'class="pager"' not in one_page
