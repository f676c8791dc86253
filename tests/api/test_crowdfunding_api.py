"""The crowdfunding API: the pages' twins under /api/v1/campaigns, with problem+json
errors, strict money fields and who may do what."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.crowdfunding import pledging
from p2pbank.crowdfunding.models import Campaign, CampaignStatus, Pledge, PledgeStatus
from p2pbank.crowdfunding.rules import KNOWLEDGE_TEST
from tests.support.crowdfunding import draft, key, live
from tests.support.money import deposit, posted_held

CAMPAIGN = {
    "title": "Street oven",
    "summary": "A wood-fired oven everyone on the street can use.",
    "story_md": "## Why\n\nBread.",
    "category": "food",
    "goal_minor": 150_000,
    "duration_days": 20,
}


def assert_problem(response, status: int) -> dict:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    assert body["status"] == status and body["detail"]
    return body


@pytest.fixture
def ian(make_user):
    return make_user(roles=["initiator"], kyc="verified", name="Ian")


@pytest.fixture
def ann(make_user, session):
    person = make_user(roles=["backer"], kyc="verified", name="Ann")
    deposit(session, person.id, 500_000)
    return person


def test_create_tier_launch_and_read(client, session, ian, api_token):
    headers = api_token(ian)
    made = client.post("/api/v1/campaigns", json=CAMPAIGN, headers=headers)
    assert made.status_code == 201, made.json
    campaign_id = made.json["id"]
    assert made.json["status"] == "draft" and made.json["goal_minor"] == 150_000
    tier = client.post(
        f"/api/v1/campaigns/{campaign_id}/tiers",
        json={
            "title": "Loaf",
            "min_pledge_minor": 2_500,
            "quantity_limit": 5,
            "delivery_month": "2027-03",
        },
        headers=headers,
    )
    assert tier.status_code == 201 and tier.json["delivery_month"] == "2027-03"
    goal = client.post(
        f"/api/v1/campaigns/{campaign_id}/stretch-goals",
        json={"amount_minor": 300_000, "description": "A second oven"},
        headers=headers,
    )
    assert goal.status_code == 201
    launched = client.post(f"/api/v1/campaigns/{campaign_id}/launch", headers=headers)
    assert launched.status_code == 200 and launched.json["status"] == "live"
    detail = client.get(f"/api/v1/campaigns/{campaign_id}", headers=headers).json
    assert detail["progress"] == {
        "goal_minor": 150_000,
        "pledged_minor": 0,
        "firm_minor": 0,
        "pending_minor": 0,
        "revocable_minor": 0,
        "percent": 0,
        "backers": 0,
        "days_left": 20,
    }
    assert detail["tiers"][0]["remaining"] == 5
    assert detail["stretch_goals"][0]["reached"] is False
    listed = client.get("/api/v1/campaigns?sort=newest", headers=headers).json
    assert [c["id"] for c in listed["items"]] == [campaign_id]
    locked = client.patch(
        f"/api/v1/campaigns/{campaign_id}", json={"goal_minor": 200_000}, headers=headers
    )
    assert_problem(locked, 422)


@pytest.mark.parametrize(
    "body",
    [
        {**CAMPAIGN, "goal_minor": 150_000.0},
        {**CAMPAIGN, "goal_minor": "150000"},
        {**CAMPAIGN, "goal_minor": 9_999},
        {**CAMPAIGN, "goal_minor": 500_000_001},
        {**CAMPAIGN, "duration_days": 61},
        {**CAMPAIGN, "category": "weapons"},
        {**CAMPAIGN, "unknown": 1},
        {k: v for k, v in CAMPAIGN.items() if k != "title"},
    ],
)
def test_bad_campaigns_are_refused(client, session, ian, api_token, body):
    before = session.scalar(select(func.count(Campaign.id)))
    assert_problem(client.post("/api/v1/campaigns", json=body, headers=api_token(ian)), 422)
    assert session.scalar(select(func.count(Campaign.id))) == before


def test_pledge_change_cancel_through_the_api(client, session, ian, ann, api_token):
    campaign = live(session, ian)
    headers = api_token(ann)
    body = {"amount_minor": 4_000, "idempotency_key": key()}
    made = client.post(f"/api/v1/campaigns/{campaign.id}/pledges", json=body, headers=headers)
    assert made.status_code == 201 and made.json["status"] == "pending"
    again = client.post(f"/api/v1/campaigns/{campaign.id}/pledges", json=body, headers=headers)
    assert again.json["id"] == made.json["id"]  # idempotent
    pledge_id = made.json["id"]
    changed = client.patch(
        f"/api/v1/campaigns/pledges/{pledge_id}", json={"amount_minor": 6_000}, headers=headers
    )
    assert changed.json["amount_minor"] == 6_000
    assert posted_held(session, ann.id) == (500_000, 6_000)
    mine = client.get("/api/v1/campaigns/pledges", headers=headers).json
    assert [p["id"] for p in mine] == [pledge_id]
    gone = client.delete(f"/api/v1/campaigns/pledges/{pledge_id}", headers=headers)
    assert gone.json["status"] == "released"
    assert posted_held(session, ann.id) == (500_000, 0)


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": 99, "idempotency_key": "k-12345678"},
        {"amount_minor": 10.5, "idempotency_key": "k-12345678"},
        {"amount_minor": "1000", "idempotency_key": "k-12345678"},
        {"amount_minor": True, "idempotency_key": "k-12345678"},
        {"amount_minor": 1_000},
        {"amount_minor": 1_000, "idempotency_key": "short"},
        {"amount_minor": 1_000, "idempotency_key": "k" * 101},
        {"amount_minor": 1_000, "idempotency_key": "k-12345678", "method": "cash"},
    ],
)
def test_bad_pledges_are_refused(client, session, ian, ann, api_token, body):
    campaign = live(session, ian)
    response = client.post(
        f"/api/v1/campaigns/{campaign.id}/pledges", json=body, headers=api_token(ann)
    )
    assert_problem(response, 422)
    assert session.scalar(select(func.count(Pledge.id))) == 0


def test_not_enough_money_is_a_conflict(client, session, ian, make_user, api_token):
    campaign = live(session, ian)
    poor = make_user(roles=["backer"])
    response = client.post(
        f"/api/v1/campaigns/{campaign.id}/pledges",
        json={"amount_minor": 1_000, "idempotency_key": key()},
        headers=api_token(poor),
    )
    assert_problem(response, 409)


def test_card_pledge_through_the_test_gateway(client, session, ian, ann, api_token):
    campaign = live(session, ian)
    headers = api_token(ann)
    made = client.post(
        f"/api/v1/campaigns/{campaign.id}/pledges",
        json={"amount_minor": 5_000, "idempotency_key": key(), "method": "card"},
        headers=headers,
    ).json
    assert made["status"] == "awaiting_card"
    setup = client.post(f"/api/v1/campaigns/pledges/{made['id']}/card", headers=headers)
    assert setup.status_code == 200 and setup.json["setup_client_secret"].startswith("seti_")
    declined = client.post(
        f"/api/v1/campaigns/pledges/{made['id']}/card/test",
        json={"card_number": "4000000000000002"},
        headers=headers,
    )
    assert_problem(declined, 409)
    saved = client.post(
        f"/api/v1/campaigns/pledges/{made['id']}/card/test",
        json={"card_number": "4242424242424242"},
        headers=headers,
    )
    assert saved.json["status"] == "pending"
    confirm = client.post(f"/api/v1/campaigns/pledges/{made['id']}/card/confirm", headers=headers)
    assert_problem(confirm, 409)  # the test-mode gateway has no setup to read back


def test_dashboard_and_statement(client, session, ian, ann, api_token, frozen_now):
    campaign = live(session, ian, goal_minor=10_000)
    pledging.pledge(session, ann.id, campaign.id, amount_minor=12_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    from p2pbank.crowdfunding import settlement

    settlement.close_campaign(session, campaign.id)
    board = client.get(f"/api/v1/campaigns/{campaign.id}/dashboard", headers=api_token(ian))
    assert board.status_code == 200
    assert board.json["statement"] == {
        "final": True,
        "collected_minor": 12_000,
        "refunded_minor": 0,
        "gross_minor": 12_000,
        "platform_fee_bps": 500,
        "platform_fee_minor": 600,
        "processing_fee_minor": 0,
        "absorbed_minor": 0,
        "net_minor": 11_400,
        "paid_at": board.json["statement"]["paid_at"],
    }
    assert board.json["backers"][0]["backer_name"] == "Ann"
    assert_problem(
        client.get(f"/api/v1/campaigns/{campaign.id}/dashboard", headers=api_token(ann)), 403
    )


def test_investor_flow_and_loan_revocation(client, session, ian, ann, api_token, frozen_now):
    campaign = live(
        session,
        ian,
        kind="loan",
        loan_rate_bps=500,
        loan_term_months=12,
        owner_legal_name="Oven B.V.",
        owner_registration="KvK 1",
        risks_md="Risky.",
    )
    headers = api_token(ann)
    questions = client.get("/api/v1/campaigns/investor/knowledge-test", headers=headers).json
    assert [q["key"] for q in questions] == [q.key for q in KNOWLEDGE_TEST]
    partial = client.post(
        "/api/v1/campaigns/investor/knowledge-test",
        json={"answers": {"loss": "a"}},
        headers=headers,
    )
    assert_problem(partial, 422)
    answers = {q.key: q.answer for q in KNOWLEDGE_TEST}
    result = client.post(
        "/api/v1/campaigns/investor/knowledge-test", json={"answers": answers}, headers=headers
    )
    assert result.status_code == 201 and result.json["passed"] is True
    sim = client.post(
        "/api/v1/campaigns/investor/simulation",
        json={
            "yearly_net_income_minor": 3_000_000,
            "liquid_assets_minor": 1_000_000,
            "yearly_commitments_minor": 0,
        },
        headers=headers,
    )
    assert sim.json["loss_capacity_minor"] == 400_000
    assert sim.json["large_investment_threshold_minor"] == 200_000
    sheet = client.get(f"/api/v1/campaigns/{campaign.id}/information-sheet", headers=headers)
    assert "neither verified nor approved" in sheet.json["risk_warning"]
    made = client.post(
        f"/api/v1/campaigns/{campaign.id}/pledges",
        json={"amount_minor": 50_000, "idempotency_key": key()},
        headers=headers,
    ).json
    clock.set_now(frozen_now + timedelta(days=3))
    revoked = client.post(f"/api/v1/campaigns/pledges/{made['id']}/revoke", headers=headers)
    assert revoked.json["status"] == "revoked"


def test_events_feed_is_for_auditors_and_admins(client, session, ian, make_user, api_token):
    live(session, ian)
    assert_problem(client.get("/api/v1/campaigns/events", headers=api_token(ian)), 403)
    auditor = make_user(roles=["auditor"], kyc="verified")
    events = client.get("/api/v1/campaigns/events", headers=api_token(auditor)).json
    assert [e["kind"] for e in events] == ["campaign_launched"]


def test_tokens_and_scopes(client, session, ian, ann, api_token):
    campaign = live(session, ian)
    assert_problem(client.get("/api/v1/campaigns"), 401)
    read_only = api_token(ann, "read")
    response = client.post(
        f"/api/v1/campaigns/{campaign.id}/pledges",
        json={"amount_minor": 1_000, "idempotency_key": key()},
        headers=read_only,
    )
    assert_problem(response, 403)


def test_others_see_neither_drafts_nor_pledges(client, session, ian, ann, make_user, api_token):
    hidden = draft(session, ian)
    campaign = live(session, ian, title="Public")
    mine = pledging.pledge(session, ann.id, campaign.id, amount_minor=1_000, idempotency_key=key())
    bob = make_user(roles=["backer"])
    headers = api_token(bob)
    assert_problem(client.get(f"/api/v1/campaigns/{hidden.id}", headers=headers), 404)
    assert_problem(client.get(f"/api/v1/campaigns/pledges/{mine.id}", headers=headers), 404)
    assert_problem(
        client.patch(
            f"/api/v1/campaigns/pledges/{mine.id}", json={"amount_minor": 5}, headers=headers
        ),
        422,
    )
    assert_problem(
        client.patch(
            f"/api/v1/campaigns/pledges/{mine.id}", json={"amount_minor": 5_000}, headers=headers
        ),
        404,
    )
    assert_problem(client.post(f"/api/v1/campaigns/{campaign.id}/launch", headers=headers), 403)
    session.refresh(mine)
    assert mine.status == PledgeStatus.PENDING and mine.amount_minor == 1_000
    assert session.get(Campaign, hidden.id).status == CampaignStatus.DRAFT
