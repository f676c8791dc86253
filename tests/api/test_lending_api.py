"""The lending API: every route's happy path, strict integers and ranges, problem+json
errors, and who may see and do what (anonymous, another member, the owner, an admin)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.lending import ordering
from p2pbank.lending.models import Loan
from tests.support.database import row_counts
from tests.support.lending import borrower, lender, listing, one_lender_loan, order
from tests.support.money import spend, wallet

PROBLEM = "application/problem+json"

REQUEST = {
    "amount_minor": 100_000,
    "term_months": 12,
    "max_rate_bps": 1_400,
    "purpose_category": "car",
    "purpose_text": "A used car to get to work",
}


@pytest.fixture
def people(session, make_user, frozen_now):
    return borrower(make_user, session, "Bo", money=5_000), lender(make_user, session, "Lena")


def test_a_borrower_previews_lists_and_sees_the_request(client, session, people, api_token):
    bo, _lena = people
    headers = api_token(bo)
    preview = client.post(
        "/api/v1/lending/schedule-preview",
        json={k: REQUEST[k] for k in ("amount_minor", "term_months", "max_rate_bps")},
        headers=headers,
    )
    assert preview.status_code == 200
    body = preview.json
    assert body["grade"] == "D" and body["fee_minor"] == 4_000
    assert len(body["rows"]) == 12
    assert sum(r["principal_minor"] for r in body["rows"]) == 100_000
    assert body["total_cost_minor"] == body["total_interest_minor"] + 4_000
    assert body["apr_bps"] > 1_400
    made = client.post("/api/v1/lending/requests", json=REQUEST, headers=headers)
    assert made.status_code == 201
    assert made.json["status"] == "listed" and made.json["is_own"] is True
    mine = client.get("/api/v1/lending/requests", headers=headers).json
    assert [r["id"] for r in mine] == [made.json["id"]]
    dash = client.get("/api/v1/lending/dashboard/borrower", headers=headers).json
    assert dash["limit_minor"] == 200_000 and dash["can_request"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"amount_minor": "100000"}, "amount_minor"),  # a string is not an integer
        ({"amount_minor": 100000.0}, "amount_minor"),  # nor is a float
        ({"amount_minor": 49_999}, "amount_minor"),
        ({"amount_minor": 2_500_001}, "amount_minor"),
        ({"term_months": 7}, "term_months"),
        ({"max_rate_bps": 3_601}, "max_rate_bps"),
        ({"purpose_category": "yacht"}, "purpose_category"),
        ({"purpose_text": "short"}, "purpose_text"),
    ],
)
def test_bad_requests_are_422_problems_and_write_nothing(
    client, session, people, api_token, change, field
):
    bo, _lena = people
    headers = api_token(bo)
    before = row_counts(session)
    response = client.post("/api/v1/lending/requests", json={**REQUEST, **change}, headers=headers)
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert field in response.json["errors"]
    assert row_counts(session) == before


def test_over_the_limit_and_without_kyc_are_clear_problems(
    client, session, people, api_token, make_user
):
    bo, _lena = people
    over = client.post(
        "/api/v1/lending/requests", json={**REQUEST, "amount_minor": 250_000}, headers=api_token(bo)
    )
    assert over.status_code == 422
    assert "Over your limit of EUR 2,000.00" in over.json["detail"]
    pending = make_user(roles=["borrower"], kyc="pending")
    refused = client.post("/api/v1/lending/requests", json=REQUEST, headers=api_token(pending))
    assert refused.status_code == 403 and refused.mimetype == PROBLEM
    assert "KYC" in refused.json["detail"]


def test_orders_commitments_marketplace_and_explanations(client, session, people, api_token):
    bo, lena = people
    request = listing(session, bo, amount=100_000, rate=1_400)
    headers = api_token(lena)
    placed = client.post(
        "/api/v1/lending/orders",
        json={
            "amount_minor": 50_000,
            "min_rate_bps": {"D": 900},
            "max_per_borrower_minor": 30_000,
            "reinvest": True,
            "idempotency_key": "order-1",
        },
        headers=headers,
    )
    assert placed.status_code == 201
    assert placed.json["remaining_minor"] == 20_000
    assert placed.json["committed_minor"] == 30_000
    again = client.post(
        "/api/v1/lending/orders",
        json={"amount_minor": 50_000, "min_rate_bps": {"D": 900}, "idempotency_key": "order-1"},
        headers=headers,
    )
    assert again.json["id"] == placed.json["id"]
    assert wallet(session, lena.id)[1] == 50_000
    market = client.get("/api/v1/lending/listings?grade=D&term_months=12", headers=headers).json
    assert market["total"] == 1
    assert market["listings"][0]["progress_percent"] == 30
    detail = client.get(f"/api/v1/lending/listings/{request.id}", headers=headers).json
    order_match = [m for m in detail["matches"] if m["trigger"] == "order_placed"][0]
    assert order_match["fills"] == [{"amount_minor": 30_000, "rate_bps": 900, "mine": True}]
    committed = client.post(
        f"/api/v1/lending/listings/{request.id}/commitments",
        json={"amount_minor": 5_000, "rate_bps": 1_000},
        headers=headers,
    )
    assert committed.status_code == 201 and committed.json["status"] == "held"
    too_dear = client.post(
        f"/api/v1/lending/listings/{request.id}/commitments",
        json={"amount_minor": 5_000, "rate_bps": 1_500},
        headers=headers,
    )
    assert too_dear.status_code == 422 and "rate_bps" in too_dear.json["errors"]
    reinvest = client.post(
        f"/api/v1/lending/orders/{placed.json['id']}/reinvest",
        json={"reinvest": False},
        headers=headers,
    )
    assert reinvest.json["reinvest"] is False
    cancelled = client.post(f"/api/v1/lending/orders/{placed.json['id']}/cancel", headers=headers)
    assert cancelled.json["status"] == "cancelled"
    assert wallet(session, lena.id)[1] == 35_000  # the commitments stay held
    listed = client.get(f"/api/v1/lending/orders/{placed.json['id']}", headers=headers).json
    assert len(listed["commitments"]) == 1


@pytest.mark.parametrize(
    "body",
    [
        {"amount_minor": 2_499, "min_rate_bps": {"D": 900}},
        {"amount_minor": 50_000, "min_rate_bps": {"D": 3_601}},
        {"amount_minor": 50_000, "min_rate_bps": {"F": 900}},
        {"amount_minor": 50_000, "min_rate_bps": {}},
        {"amount_minor": 50_000, "min_rate_bps": {"D": "900"}},
        {"amount_minor": 50_000, "min_rate_bps": {"D": 900}, "slice_minor": 2_000},
        {"amount_minor": 50_000, "min_rate_bps": {"D": 900}, "min_term_months": 3},
    ],
)
def test_bad_orders_are_refused(client, session, people, api_token, body):
    _bo, lena = people
    headers = api_token(lena)
    before = row_counts(session)
    response = client.post("/api/v1/lending/orders", json=body, headers=headers)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert row_counts(session) == before


def test_loans_payments_and_early_repayment(client, session, people, api_token):
    bo, lena = people
    loan = one_lender_loan(session, bo, lena)
    headers = api_token(bo)
    got = client.get(f"/api/v1/lending/loans/{loan.id}", headers=headers).json
    assert got["status"] == "active" and len(got["rows"]) == 12
    assert [row["state"] for row in got["rows"]] == ["upcoming"] * 12
    clock.advance(timedelta(days=10))
    paid = client.post(f"/api/v1/lending/loans/{loan.id}/pay", json={}, headers=headers)
    assert paid.status_code == 201
    assert paid.json["amount_minor"] == got["rows"][0]["payment_minor"]
    quote = client.get(
        f"/api/v1/lending/loans/{loan.id}/early-repayment?principal_minor=10000", headers=headers
    ).json
    assert quote["principal_minor"] == 10_000
    early = client.post(
        f"/api/v1/lending/loans/{loan.id}/early-repayment",
        json={"principal_minor": 10_000},
        headers=headers,
    )
    assert early.status_code == 201 and early.json["kind"] == "early"
    history = client.get(f"/api/v1/lending/loans/{loan.id}/repayments", headers=headers).json
    assert [r["kind"] for r in history] == ["pay_now", "early"]
    parts = client.get("/api/v1/lending/parts", headers=api_token(lena)).json
    assert parts[0]["received_principal_minor"] > 10_000
    dash = client.get("/api/v1/lending/dashboard/lender", headers=api_token(lena)).json
    assert dash["income_minor"] > 0
    assert dash["returns"]["xirr"] is not None and dash["returns"]["explanation"]
    assert client.get("/api/v1/lending/loans", headers=headers).json[0]["id"] == loan.id


def test_paying_without_money_is_a_409_and_writes_nothing(client, session, people, api_token):
    bo, lena = people
    loan = one_lender_loan(session, bo, lena)
    spend(session, bo.id, wallet(session, bo.id)[2])
    clock.advance(timedelta(days=31))
    headers = api_token(bo)
    before = row_counts(session)
    response = client.post(
        f"/api/v1/lending/loans/{loan.id}/pay", json={"amount_minor": 100}, headers=headers
    )
    assert response.status_code == 409 and response.mimetype == PROBLEM
    assert "Add money first" in response.json["detail"]
    assert row_counts(session) == before
    strict = client.post(
        f"/api/v1/lending/loans/{loan.id}/pay", json={"amount_minor": 1.5}, headers=headers
    )
    assert strict.status_code == 422


# --- who may do what -----------------------------------------------------------------------


def test_authorization(client, session, people, api_token, make_user):
    bo, lena = people
    other = borrower(make_user, session, "Other")
    admin = make_user(roles=["admin"], kyc="verified")
    request = listing(session, bo, amount=60_000, rate=1_400)
    placed = order(session, lena, 10_000, {"D": 900}, max_per_borrower_minor=10_000)
    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=50_000, rate_bps=1_000)
    loan = session.scalar(select(Loan))
    private = [
        f"/api/v1/lending/loans/{loan.id}",
        f"/api/v1/lending/loans/{loan.id}/repayments",
        f"/api/v1/lending/orders/{placed.id}",
    ]
    for path in private:
        assert client.get(path).status_code == 401
        response = client.get(path, headers=api_token(other))
        assert response.status_code == 404 and response.mimetype == PROBLEM
        assert client.get(path, headers=api_token(admin)).status_code == 200
    assert client.get(f"/api/v1/lending/loans/{loan.id}", headers=api_token(bo)).status_code == 200
    # A funded listing is no longer public; its lenders and borrower still see it.
    assert (
        client.get(f"/api/v1/lending/listings/{request.id}", headers=api_token(other)).status_code
        == 404
    )
    assert (
        client.get(f"/api/v1/lending/listings/{request.id}", headers=api_token(lena)).status_code
        == 200
    )
    # Another person's loan cannot be paid, nor their order cancelled, nor written with a
    # read-only token.
    as_other, read_only = api_token(other), api_token(lena, "read")
    before = row_counts(session)
    assert (
        client.post(f"/api/v1/lending/loans/{loan.id}/pay", json={}, headers=as_other).status_code
        == 404
    )
    assert (
        client.post(f"/api/v1/lending/orders/{placed.id}/cancel", headers=as_other).status_code
        == 404
    )
    assert (
        client.post(f"/api/v1/lending/orders/{placed.id}/cancel", headers=read_only).status_code
        == 403
    )
    assert row_counts(session) == before


def test_lending_to_yourself_is_refused(client, session, make_user, api_token, frozen_now):
    bea = make_user(roles=["borrower", "lender"], kyc="verified", name="Bea")
    request = listing(session, bea)
    response = client.post(
        f"/api/v1/lending/listings/{request.id}/commitments",
        json={"amount_minor": 5_000, "rate_bps": 900},
        headers=api_token(bea),
    )
    assert response.status_code == 422
    assert response.json["detail"] == "You cannot lend to yourself."
