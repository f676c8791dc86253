"""The bell in the page header, the notifications page (pager, open, mark all read), the
e-mail settings, and the API twins (only your own, problem+json errors)."""

from __future__ import annotations

import re

from p2pbank.notifications import queries, services
from p2pbank.uow import command

INCOME = {"amount_minor": 2_500, "currency": "EUR", "loan_id": 3}


def _give(session, user, n=1, link="/wallet"):
    with command(session):
        return [
            services.notify(session, user.id, "repayment_received", INCOME, link) for _ in range(n)
        ]


def _bell(html: str) -> str | None:
    match = re.search(
        r'id="bell"[^>]*>.*?(?:<span class="count">(\d+|99\+)</span>)?</a>', html, re.S
    )
    assert match, "no bell in the header"
    return match.group(1)


def test_the_bell_counts_unread_notifications(session, make_user, signed_in, web):
    ann = make_user()
    browser = signed_in(ann)
    assert _bell(browser.get("/dashboard").get_data(as_text=True)) is None
    _give(session, ann, 3)
    html = browser.get("/dashboard").get_data(as_text=True)
    assert _bell(html) == "3" and "Notifications, 3 unread" in html
    services.mark_all_read(session, ann.id)
    assert _bell(browser.get("/dashboard").get_data(as_text=True)) is None
    assert 'id="bell"' not in web.get("/").get_data(as_text=True)  # nobody signed in


def test_the_page_pages_opens_and_marks_all_read(session, make_user, signed_in):
    ann = make_user()
    notes = _give(session, ann, 25)
    browser = signed_in(ann)
    first = browser.get("/notifications").get_data(as_text=True)
    assert first.count("You received €25.00 from loan #3.") == 20
    assert "Page 1 of 2" in first and "25 unread." in first
    assert browser.get("/notifications?page=2").get_data(as_text=True).count("loan #3") == 5
    opened = browser.submit("/notifications", {}, action=f"/notifications/{notes[0].id}/read")
    assert opened.status_code == 302 and opened.headers["Location"] == "/wallet"
    assert queries.unread_count(session, ann.id) == 24
    done = browser.submit("/notifications", {}, action="/notifications/read-all")
    assert done.status_code == 302
    assert queries.unread_count(session, ann.id) == 0


def test_nobody_opens_another_persons_notification(session, make_user, signed_in):
    ann, bob = make_user(), make_user()
    (note,) = _give(session, ann)
    browser = signed_in(bob)
    assert (
        browser.submit("/notifications", {}, action=f"/notifications/{note.id}/read").status_code
        == 404
    )
    assert "loan #3" not in browser.get("/notifications").get_data(as_text=True)
    assert queries.unread_count(session, ann.id) == 1


def test_the_settings_turn_a_kind_off_by_mail(session, make_user, signed_in):
    ann = make_user()
    browser = signed_in(ann)
    page = browser.get("/settings/notifications").get_data(as_text=True)
    assert 'value="repayment_received" checked' in page
    kept = [k for k in queries.email_settings(session, ann.id) if k != "repayment_received"]
    response = browser.submit("/settings/notifications", {"email": kept})
    assert response.status_code == 302
    assert queries.email_settings(session, ann.id)["repayment_received"] is False
    assert 'value="repayment_received" checked' not in browser.get(
        "/settings/notifications"
    ).get_data(as_text=True)


def test_the_api(client, session, make_user, api_token):
    ann, bob = make_user(), make_user()
    notes = _give(session, ann, 3)
    headers = api_token(ann)
    page = client.get("/api/v1/notifications?per_page=2", headers=headers).get_json()
    assert (page["total"], page["pages"], page["unread"]) == (3, 2, 3)
    first = page["notifications"][0]
    assert first["kind"] == "repayment_received" and first["params"] == INCOME
    assert first["text"] == "You received €25.00 from loan #3." and first["link"] == "/wallet"
    read = client.post(f"/api/v1/notifications/{notes[0].id}/read", headers=headers)
    assert read.status_code == 200 and read.get_json()["read_at"]
    other = client.post(f"/api/v1/notifications/{notes[1].id}/read", headers=api_token(bob))
    assert other.status_code == 404
    assert other.headers["Content-Type"] == "application/problem+json"
    marked = client.post("/api/v1/notifications/read-all", headers=headers).get_json()
    assert marked == {"marked": 2}
    unread = client.get("/api/v1/notifications?unread_only=true", headers=headers).get_json()
    assert unread["total"] == 0
    assert client.get("/api/v1/notifications").status_code == 401
    bad = client.get("/api/v1/notifications?page=0", headers=headers)
    assert bad.status_code == 422


def test_every_page_a_notification_opens_exists(app):
    """The links the domains put on their notifications name real pages."""
    links = [
        "/lending/loans/1",
        "/lending/listings/1",
        "/lending/orders/1",
        "/lending/borrow",
        "/lending/lend",
        "/campaigns/1",
        "/pledges",
        "/wallet",
        "/settings",
        "/settings/roles",
        "/trust/members/1",
        "/trust/ratings",
        "/trust/transactions/1/rate",
    ]
    adapter = app.url_map.bind("localhost")
    for link in links:
        adapter.match(link, method="GET")  # NotFound if a page moved
