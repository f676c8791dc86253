"""Crowdfunding pages through the real app: happy paths, bad input, who sees what."""

from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import discussion, pledging
from p2pbank.crowdfunding.models import Campaign, CampaignStatus, Pledge, PledgeStatus
from p2pbank.crowdfunding.rules import KNOWLEDGE_TEST
from tests.support.crowdfunding import draft, key, live
from tests.support.money import deposit, posted_held


@pytest.fixture
def ian(make_user):
    return make_user(roles=["initiator"], kyc="verified", name="Ian", email="ian@example.test")


@pytest.fixture
def ann(make_user, session):
    person = make_user(roles=["backer"], kyc="verified", name="Ann", email="ann@example.test")
    deposit(session, person.id, 500_000)
    return person


def _text(response) -> str:
    return response.get_data(as_text=True)


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 32), "orange").save(buffer, format="PNG")
    return buffer.getvalue()


# --- explore and the campaign page ------------------------------------------------------------


def test_explore_lists_live_campaigns_only(web, session, ian):
    live(session, ian, title="Public oven")
    draft(session, ian, title="Secret draft")
    page = _text(web.get("/campaigns"))
    assert "Public oven" in page and "Secret draft" not in page


def test_explore_filters_and_sorts(web, session, ian, ann):
    live(session, ian, title="Music album", category="music")
    oven = live(session, ian, title="Street oven", category="food")
    pledging.pledge(session, ann.id, oven.id, amount_minor=90_000, idempotency_key=key())
    page = _text(web.get("/campaigns?category=food"))
    assert "Street oven" in page and "Music album" not in page
    page = _text(web.get("/campaigns?sort=most_funded"))
    assert page.index("Street oven") < page.index("Music album")
    assert web.get("/campaigns?sort=best_rated").status_code == 200
    assert web.get("/campaigns?sort=sideways").status_code == 422
    assert web.get("/campaigns?category=weapons").status_code == 422
    assert web.get("/campaigns?page=0").status_code == 422


def test_campaign_page_shows_progress_tiers_and_sanitized_story(web, session, ian, ann):
    campaign, (tier,) = live(
        session,
        ian,
        tiers=[{"title": "Loaf", "min_pledge_minor": 2_500, "quantity_limit": 1}],
        story_md="Hello <script>alert(1)</script><img src=x onerror=alert(2)> [x](javascript:y)",
    )
    pledging.pledge(
        session, ann.id, campaign.id, amount_minor=2_500, tier_id=tier.id, idempotency_key=key()
    )
    page = _text(web.get(f"/campaigns/{campaign.id}"))
    assert "Loaf" in page and "sold out" in page
    assert "<script>alert" not in page and "onerror" not in page and "javascript:" not in page
    assert 'data-percent="2"' in page  # 25.00 of 1,000.00
    assert "Amounts are shown before any fees." in page
    response = web.get(f"/campaigns/{campaign.id}")
    assert "script-src 'self'" in response.headers["Content-Security-Policy"]


def test_a_draft_is_invisible_to_others(web, signed_in, session, ian, make_user):
    campaign = draft(session, ian)
    assert web.get(f"/campaigns/{campaign.id}").status_code == 404
    other = make_user(roles=["initiator"], kyc="verified")
    assert signed_in(other).get(f"/campaigns/{campaign.id}").status_code == 404
    assert signed_in(ian).get(f"/campaigns/{campaign.id}").status_code == 200
    assert web.get("/campaigns/999999").status_code == 404


# --- the wizard ---------------------------------------------------------------------------------


def test_initiator_creates_edits_and_launches(signed_in, session, ian, app):
    browser = signed_in(ian)
    response = browser.submit(
        "/campaigns/new",
        {
            "title": "Community oven",
            "summary": "A wood-fired oven the whole street can use.",
            "story_md": "## Why\n\nBread for all.",
            "category": "food",
            "goal": "1,500.00",
            "currency": "EUR",
            "duration_days": "21",
            "funding_model": "all_or_nothing",
            "kind": "reward",
        },
    )
    assert response.status_code == 302, _text(response)
    campaign = session.scalar(select(Campaign).where(Campaign.title == "Community oven"))
    assert campaign.goal_minor == 150_000 and campaign.status == CampaignStatus.DRAFT
    edit = f"/campaigns/{campaign.id}/edit"
    assert browser.get(edit).status_code == 200
    response = browser.submit(
        edit,
        {
            "title": "Loaf",
            "min_pledge": "25",
            "quantity_limit": "10",
            "delivery_month": "2027-03",
            "description": "One loaf a week",
        },
        action=f"/campaigns/{campaign.id}/tiers",
    )
    assert response.status_code == 302
    response = browser.submit(
        edit,
        {"amount": "2000", "description": "A second oven"},
        action=f"/campaigns/{campaign.id}/stretch-goals",
    )
    assert response.status_code == 302
    page = browser.get(edit)
    token = re.search(r'name="csrf_token" value="([^"]+)"', _text(page)).group(1)
    response = browser.client.post(
        f"/campaigns/{campaign.id}/cover",
        data={"csrf_token": token, "cover": (io.BytesIO(_png()), "oven.png")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    session.refresh(campaign)
    assert campaign.cover_filename and campaign.cover_filename.endswith(".jpg")
    cover = browser.get(f"/campaigns/{campaign.id}/cover")
    assert cover.status_code == 200 and cover.mimetype == "image/jpeg"
    cover.close()
    response = browser.submit(edit, {}, action=f"/campaigns/{campaign.id}/launch")
    assert response.status_code == 302
    session.refresh(campaign)
    assert campaign.status == CampaignStatus.LIVE
    page = _text(browser.get(f"/campaigns/{campaign.id}"))
    assert "A second oven" in page and "not reached yet" in page


def test_bad_campaign_form_is_shown_again_with_errors(signed_in, session, ian):
    browser = signed_in(ian)
    response = browser.submit(
        "/campaigns/new",
        {
            "title": "Oven",
            "summary": "A wood-fired oven the whole street can use.",
            "category": "food",
            "goal": "99.99",
            "duration_days": "61",
        },
    )
    assert response.status_code == 422
    page = _text(response)
    assert 'aria-invalid="true"' in page
    assert session.scalar(select(Campaign).where(Campaign.title == "Oven")) is None


def test_goal_as_a_float_like_text_is_refused(signed_in, ian):
    response = signed_in(ian).submit(
        "/campaigns/new",
        {
            "title": "Oven",
            "summary": "A wood-fired oven the whole street can use.",
            "category": "food",
            "goal": "1e5",
            "duration_days": "30",
        },
    )
    assert response.status_code == 422


def test_non_initiators_cannot_create(signed_in, make_user):
    person = make_user(roles=["backer"])
    browser = signed_in(person)
    assert "Take the initiator role" in _text(browser.get("/campaigns/new"))
    response = browser.submit(
        "/campaigns/new",
        {
            "title": "Mine",
            "summary": "A wood-fired oven the whole street can use.",
            "category": "food",
            "goal": "500",
            "duration_days": "30",
        },
    )
    assert response.status_code == 403


def test_cover_rejects_other_files(signed_in, session, ian):
    campaign = draft(session, ian)
    browser = signed_in(ian)
    edit = f"/campaigns/{campaign.id}/edit"
    token = re.search(r'name="csrf_token" value="([^"]+)"', _text(browser.get(edit))).group(1)
    response = browser.client.post(
        f"/campaigns/{campaign.id}/cover",
        data={"csrf_token": token, "cover": (io.BytesIO(b"<svg></svg>"), "x.png")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "not a PNG or JPEG" in _text(response)
    session.refresh(campaign)
    assert campaign.cover_filename is None


def test_goal_is_locked_once_live(signed_in, session, ian):
    campaign = live(session, ian)
    browser = signed_in(ian)
    page = _text(browser.get(f"/campaigns/{campaign.id}/edit"))
    assert "locked now that the campaign is live" in page
    response = browser.submit(
        f"/campaigns/{campaign.id}/edit",
        {
            "title": "Street oven",
            "summary": "A wood-fired oven everyone on the street can use.",
            "category": "community",
            "goal": "5000",
            "currency": "EUR",
            "duration_days": "30",
            "funding_model": "all_or_nothing",
            "kind": "reward",
            "story_md": "x",
        },
    )
    assert response.status_code == 422
    assert "are locked once live" in _text(response)


# --- pledging ------------------------------------------------------------------------------------


def test_backer_pledges_from_the_wallet_and_changes_and_cancels(signed_in, session, ian, ann):
    campaign, (tier,) = live(session, ian, tiers=[{"title": "Loaf", "min_pledge_minor": 2_500}])
    browser = signed_in(ann)
    page = f"/campaigns/{campaign.id}/pledge"
    assert browser.get(page).status_code == 200
    response = browser.submit(
        page,
        {"amount": "30", "tier_id": str(tier.id), "method": "wallet", "idempotency_key": key()},
    )
    assert response.status_code == 302, _text(response)
    mine = session.scalar(select(Pledge).where(Pledge.backer_id == ann.id))
    assert mine.amount_minor == 3_000 and mine.status == PledgeStatus.PENDING
    assert posted_held(session, ann.id) == (500_000, 3_000)
    listing = _text(browser.get("/pledges"))
    assert campaign.title in listing and "Change" in listing
    response = browser.submit(
        f"/pledges/{mine.id}/change", {"amount": "45.50", "tier_id": str(tier.id)}
    )
    assert response.status_code == 302
    session.refresh(mine)
    assert mine.amount_minor == 4_550
    response = browser.submit("/pledges", {}, action=f"/pledges/{mine.id}/cancel")
    assert response.status_code == 302
    session.refresh(mine)
    assert mine.status == PledgeStatus.RELEASED
    assert posted_held(session, ann.id) == (500_000, 0)


def test_pledge_below_the_tier_minimum_is_shown_again(signed_in, session, ian, ann):
    campaign, (tier,) = live(session, ian, tiers=[{"title": "Loaf", "min_pledge_minor": 2_500}])
    response = signed_in(ann).submit(
        f"/campaigns/{campaign.id}/pledge",
        {"amount": "24.99", "tier_id": str(tier.id), "idempotency_key": key()},
    )
    assert response.status_code == 422
    assert "at least" in _text(response)
    assert session.scalar(select(Pledge)) is None


@pytest.mark.parametrize(
    "amount", ["", "abc", "-5", "1.234", "12,34", "0", "1e3", "99999999999999999"]
)
def test_bad_amounts_are_refused(signed_in, session, ian, ann, amount):
    campaign = live(session, ian)
    response = signed_in(ann).submit(
        f"/campaigns/{campaign.id}/pledge", {"amount": amount, "idempotency_key": key()}
    )
    assert response.status_code == 422
    assert session.scalar(select(Pledge)) is None


def test_last_day_change_page_says_raise_only(signed_in, session, ian, ann, frozen_now):
    campaign = live(session, ian, duration_days=3)
    mine = pledging.pledge(session, ann.id, campaign.id, amount_minor=5_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at - timedelta(hours=2))
    browser = signed_in(ann)
    page = _text(browser.get(f"/pledges/{mine.id}/change"))
    assert "only raise" in page
    response = browser.submit(f"/pledges/{mine.id}/change", {"amount": "10"})
    assert response.status_code == 422
    assert "can only be raised" in _text(response)
    assert "Cancel pledge" not in _text(browser.get("/pledges"))


def test_card_pledge_saves_a_test_card(signed_in, session, ian, ann):
    campaign = live(session, ian)
    browser = signed_in(ann)
    response = browser.submit(
        f"/campaigns/{campaign.id}/pledge",
        {"amount": "50", "method": "card", "idempotency_key": key()},
    )
    assert response.status_code == 302
    assert "/card" in response.headers["Location"]
    mine = session.scalar(select(Pledge).where(Pledge.backer_id == ann.id))
    card_page = browser.get(f"/pledges/{mine.id}/card")
    assert "test mode" in _text(card_page)
    bad = browser.submit(f"/pledges/{mine.id}/card", {"card_number": "4000000000000002"})
    assert bad.status_code == 422 and "declined" in _text(bad)
    good = browser.submit(f"/pledges/{mine.id}/card", {"card_number": "4242 4242 4242 4242"})
    assert good.status_code == 302
    session.refresh(mine)
    assert mine.status == PledgeStatus.PENDING and mine.saved_card_ref
    page = _text(browser.get(f"/campaigns/{campaign.id}"))
    assert "pending (saved cards, charged only on success)" in page


# --- comments, updates, dashboard ---------------------------------------------------------


def test_comments_are_escaped_and_replies_marked(signed_in, session, ian, ann):
    campaign = live(session, ian)
    response = signed_in(ann).submit(
        f"/campaigns/{campaign.id}",
        {"body": "<b onmouseover=alert(1)>Gluten free?</b>"},
        action=f"/campaigns/{campaign.id}/comments",
    )
    assert response.status_code == 302
    question = discussion.post_comment(session, ian.id, campaign.id, body="Yes!", parent_id=None)
    page = _text(signed_in(ian).get(f"/campaigns/{campaign.id}"))
    assert "&lt;b onmouseover=alert(1)&gt;" in page
    assert "<b onmouseover" not in page
    assert "cf-initiator-tag" in page and question.by_initiator


def test_backers_only_updates(web, signed_in, session, ian, ann):
    campaign = live(session, ian)
    pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    response = signed_in(ian).submit(
        f"/campaigns/{campaign.id}/dashboard",
        {"title": "Secret recipe", "body_md": "Use **rye**.", "visibility": "backers"},
        action=f"/campaigns/{campaign.id}/updates",
    )
    assert response.status_code == 302
    assert "<strong>rye</strong>" in _text(signed_in(ann).get(f"/campaigns/{campaign.id}"))
    anonymous = _text(web.get(f"/campaigns/{campaign.id}"))
    assert "Secret recipe" in anonymous and "rye" not in anonymous
    assert "This update is for backers only." in anonymous


def test_dashboard_shows_chart_tiers_and_statement(signed_in, session, ian, ann):
    campaign, (tier,) = live(session, ian, tiers=[{"title": "Loaf", "min_pledge_minor": 1_000}])
    pledging.pledge(
        session, ann.id, campaign.id, amount_minor=20_000, tier_id=tier.id, idempotency_key=key()
    )
    page = _text(signed_in(ian).get(f"/campaigns/{campaign.id}/dashboard"))
    assert "<polyline" in page
    assert "Platform fee (5% of" in page
    assert 'data-fee="platform">−€10.00' in page
    assert 'data-fee="processing">−€0.00' in page
    assert "data-net>€190.00" in page
    assert "Ann" in page


def test_dashboard_is_the_initiators_alone(signed_in, session, ian, ann, make_user):
    campaign = live(session, ian)
    pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    assert signed_in(ann).get(f"/campaigns/{campaign.id}/dashboard").status_code == 403
    admin = make_user(roles=["admin"], kyc="verified")
    assert signed_in(admin).get(f"/campaigns/{campaign.id}/dashboard").status_code == 200


# --- crowdlending ------------------------------------------------------------------------------


def _loan(session, ian):
    return live(
        session,
        ian,
        kind="loan",
        goal_minor=1_000_000,
        loan_rate_bps=650,
        loan_term_months=24,
        owner_legal_name="Oven B.V.",
        owner_registration="KvK 123",
        risks_md="Ovens break.",
    )


def test_information_sheet_has_the_risk_warning_under_the_title(web, session, ian):
    campaign = _loan(session, ian)
    page = _text(web.get(f"/campaigns/{campaign.id}/information-sheet"))
    title = page.index("<h1>")
    warning = page.index("neither verified nor approved by competent authorities")
    assert title < warning < page.index("Part A")
    assert "6.50% a year" in page and "Oven B.V." in page
    reward = live(session, ian, title="Rewards only")
    assert web.get(f"/campaigns/{reward.id}/information-sheet").status_code == 404


def test_investor_takes_the_test_and_simulates(signed_in, session, ian, ann):
    campaign = _loan(session, ian)
    browser = signed_in(ann)
    page = _text(browser.get(f"/campaigns/{campaign.id}/pledge"))
    assert "First take the entry knowledge test" in page
    answers = {q.key: q.answer for q in KNOWLEDGE_TEST}
    assert browser.submit("/investor", answers, action="/investor/test").status_code == 302
    assert 'data-test="passed"' in _text(browser.get("/investor"))
    response = browser.submit(
        "/investor",
        {"yearly_net_income": "40000", "liquid_assets": "30,000", "yearly_commitments": "10000"},
        action="/investor/simulation",
    )
    assert response.status_code == 302
    page = _text(browser.get("/investor"))
    assert "data-loss-capacity>€6,000.00" in page
    response = browser.submit(
        f"/campaigns/{campaign.id}/pledge", {"amount": "3000.01", "idempotency_key": key()}
    )
    assert response.status_code == 422
    assert "Confirm that you understand the risk" in _text(response)
    response = browser.submit(
        f"/campaigns/{campaign.id}/pledge",
        {"amount": "3000.01", "idempotency_key": key(), "acknowledge_risk": "true"},
    )
    assert response.status_code == 302
    assert "Revoke (reflection period)" in _text(browser.get("/pledges"))


def test_unanswered_test_is_refused(signed_in, ann):
    response = signed_in(ann).submit("/investor", {"loss": "a"}, action="/investor/test")
    assert response.status_code == 422


# --- who may --------------------------------------------------------------------------------------


def test_signed_out_people_are_sent_to_sign_in(web, session, ian):
    campaign = live(session, ian)
    for path in ("/campaigns/new", "/pledges", "/investor", f"/campaigns/{campaign.id}/pledge"):
        response = web.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_other_backers_cannot_touch_my_pledge(signed_in, session, ian, ann, make_user):
    campaign = live(session, ian)
    mine = pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    bob = make_user(roles=["backer"], kyc="verified")
    browser = signed_in(bob)
    assert browser.get(f"/pledges/{mine.id}/change").status_code == 404
    assert browser.submit("/pledges", {}, action=f"/pledges/{mine.id}/cancel").status_code == 404
    session.refresh(mine)
    assert mine.status == PledgeStatus.PENDING


def test_search_matches_the_words_literally(web, session, ian):
    live(session, ian, title="100% organic bread")
    live(session, ian, title="Street oven")
    page = _text(web.get("/campaigns?q=100%25"))
    assert "100% organic bread" in page and "Street oven" not in page
    page = _text(web.get("/campaigns?q=%25"))
    assert "Street oven" not in page
    page = _text(web.get("/campaigns?q=_"))
    assert "Street oven" not in page and "organic" not in page
