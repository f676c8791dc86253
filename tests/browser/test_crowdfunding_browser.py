"""A real browser backs a campaign by card and the initiator reads the dashboard: the
pages work under the strict CSP (no console errors), the progress bar and chart draw."""

from __future__ import annotations

import re
import uuid
from datetime import date

import pytest
from playwright.sync_api import expect

from p2pbank.crowdfunding import rewards, services
from tests.support.pages import sign_out
from tests.support.people import STRONG_PASSWORD, member

pytestmark = pytest.mark.browser


def _person(session, name: str, roles: list[str]):
    email = f"{name.lower()}-{uuid.uuid4().hex[:10]}@example.test"
    return member(session, name, roles, email=email, reason="browser test")


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


def test_back_a_campaign_by_card_and_read_the_dashboard(page, live_server, tmp_path):
    session = live_server.app.extensions["p2pbank.sessionmaker"]()
    try:
        ian = _person(session, "Ian", ["initiator"])
        ann = _person(session, "Ann", ["backer"])
        title = f"Browser oven {uuid.uuid4().hex[:6]}"
        campaign = services.create_campaign(
            session,
            ian.id,
            title=title,
            summary="A wood-fired oven the whole street can use.",
            category="food",
            goal_minor=50_000,
            duration_days=20,
            story_md="## Why\n\nBread for **everyone**.",
        )
        rewards.add_tier(
            session,
            ian.id,
            campaign.id,
            title="Loaf of bread",
            min_pledge_minor=2_500,
            quantity_limit=5,
            delivery_month=date(2027, 3, 1),
        )
        services.launch_campaign(session, ian.id, campaign.id)
        campaign_id = campaign.id
    finally:
        session.close()

    _sign_in(page, ann.email)
    page.goto(f"/campaigns/{campaign_id}")
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    page.get_by_role("link", name="Back this project").click()
    page.get_by_label(re.compile("Loaf of bread")).check()
    page.get_by_label("Amount (EUR)").fill("30")
    page.get_by_label(re.compile("A card: saved now")).check()
    page.get_by_role("button", name="Pledge").click()
    expect(page).to_have_url(re.compile(r"/pledges/\d+/card$"))
    expect(page.get_by_role("note")).to_contain_text("test mode")
    page.get_by_label("Card number").fill("4242 4242 4242 4242")
    page.get_by_role("button", name="Save card").click()
    expect(page).to_have_url(re.compile(rf"/campaigns/{campaign_id}$"))
    expect(page.get_by_role("status")).to_contain_text("charged only if the campaign succeeds")
    expect(page.locator(".cf-split")).to_contain_text("€30.00")
    expect(page.locator("rect.cf-bar-pending")).to_have_attribute("width", "6")
    page.screenshot(path=str(tmp_path / "campaign.png"), full_page=True)
    assert page.console_errors == []

    sign_out(page)
    _sign_in(page, ian.email)
    page.goto(f"/campaigns/{campaign_id}/dashboard")
    expect(page.locator("polyline.cf-line")).to_have_count(1)
    expect(page.locator("[data-net]")).to_contain_text("€28.50")  # projected: 30 less 5 %
    expect(page.get_by_role("cell", name="Ann", exact=True)).to_be_visible()
    assert page.console_errors == []
