"""Each role's main pages at 1280 px and at 375 px in a real browser: screenshots kept as
artifacts (SCREENSHOT_DIR, default build/screenshots), no page scrolls sideways on a
phone, and the top bar stays one row on a laptop."""

from __future__ import annotations

import os
import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import expect

from p2pbank.crowdfunding import services as crowdfunding
from p2pbank.ledger import services as ledger
from p2pbank.lending import services as lending
from tests.support.people import STRONG_PASSWORD, member

pytestmark = pytest.mark.browser

SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "build/screenshots"))
VIEWPORTS = {"laptop": (1280, 800), "phone": (375, 812)}
ROLE_PAGES = {
    "visitor": ["/", "/statistics", "/campaigns", "/login", "/signup"],
    "lender": [
        "/dashboard",
        "/lending/",
        "/lending/lend",
        "/wallet",
        "/payments",
        "/trust/members",
        "/statistics",
        "/resale/",
        "/resale/mine",
        "/notifications",
        "/settings/notifications",
    ],
    "borrower": ["/dashboard", "/lending/borrow", "/lending/requests/new", "/wallet"],
    "initiator": ["/dashboard", "/my/campaigns", "/campaigns/new", "/campaigns"],
}


@pytest.fixture(scope="module")
def people(live_server) -> dict[str, str]:
    """One verified member per role in the live server's database, with something to see:
    a listing the lender can look at and a live campaign."""
    session = live_server.app.extensions["p2pbank.sessionmaker"]()
    emails: dict[str, str] = {}
    try:
        users = {}
        for role in ("lender", "borrower", "initiator"):
            user = member(
                session,
                f"Layout {role.title()} With A Rather Long Name",
                [role],
                email=f"{role}-{uuid.uuid4().hex[:10]}@example.test",
                reason="browser test",
            )
            users[role], emails[role] = user, user.email
        lending.request_loan(
            session,
            users["borrower"].id,
            amount_minor=150_000,
            term_months=12,
            max_rate_bps=1_100,
            purpose_category="car",
            purpose_text="A used car to get to work and back every day",
        )
        campaign = crowdfunding.create_campaign(
            session,
            users["initiator"].id,
            title="Layout test oven",
            summary="A wood-fired oven the whole street can use, with a long summary line.",
            category="food",
            goal_minor=50_000,
            duration_days=20,
            story_md="## Why\n\nBread.",
        )
        crowdfunding.launch_campaign(session, users["initiator"].id, campaign.id)
        ledger.ensure_wallet(session, users["lender"].id, "EUR")
    finally:
        session.close()
    return emails


def _sign_in(page, email: str) -> None:
    page.goto("/login")
    page.get_by_label("E-mail address").fill(email)
    page.get_by_label("Password").fill(STRONG_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(re.compile(r"/dashboard$"))


@pytest.mark.parametrize("viewport", VIEWPORTS)
@pytest.mark.parametrize("role", ROLE_PAGES)
def test_main_pages_fit_the_screen(chromium, live_server, people, role, viewport):
    width, height = VIEWPORTS[viewport]
    context = chromium.new_context(
        base_url=live_server.url, locale="en-GB", viewport={"width": width, "height": height}
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    try:
        if role != "visitor":
            _sign_in(page, people[role])
        folder = SHOTS / viewport / role
        folder.mkdir(parents=True, exist_ok=True)
        for path in ROLE_PAGES[role]:
            response = page.goto(path)
            assert response is not None and response.status == 200, path
            name = path.strip("/").replace("/", "-") or "home"
            page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
            sideways = page.evaluate(
                "document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            wide = page.evaluate(
                "[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect()"
                ".right > document.documentElement.clientWidth + 1).slice(-3)"
                ".map(e => e.tagName + '.' + e.className)"
            )
            assert sideways <= 0, f"{path} scrolls {sideways} px sideways at {width} px: {wide}"
            if viewport == "laptop":
                spread = page.evaluate(
                    "(() => { const c = [...document.querySelectorAll('header.top nav > *')]"
                    ".filter(e => e.offsetParent !== null).map(e => { const r ="
                    " e.getBoundingClientRect(); return r.top + r.height / 2; });"
                    " return Math.max(...c) - Math.min(...c); })()"
                )
                assert spread < 8, f"the top bar of {path} wraps at {width} px"
    finally:
        context.close()
