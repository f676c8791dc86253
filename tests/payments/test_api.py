"""The payments API (/api/v1/payments), calling the same services as the pages."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from p2pbank.ledger.queries import wallet_summary
from p2pbank.payments.models import Payment, Payout

BASE = "/api/v1/payments"


def _deposit(client, headers, amount=10_000, key="k1", card="4242424242424242"):
    created = client.post(
        f"{BASE}/deposits", json={"amount_minor": amount, "idempotency_key": key}, headers=headers
    )
    assert created.status_code == 201, created.json
    if card:
        paid = client.post(
            f"{BASE}/deposits/{created.json['id']}/test-card",
            json={"card_number": card},
            headers=headers,
        )
        assert paid.status_code == 200, paid.json
        return paid.json
    return created.json


def test_deposit_and_pay_with_a_test_card(client, make_user, api_token, session):
    lena = make_user()
    headers = api_token(lena)
    created = client.post(
        f"{BASE}/deposits", json={"amount_minor": 10_000, "idempotency_key": "a"}, headers=headers
    )
    assert created.status_code == 201
    body = created.json
    assert body["status"] == "pending" and body["gateway"] == "test"
    assert body["client_secret"].startswith(body["gateway_payment_id"])
    paid = client.post(
        f"{BASE}/deposits/{body['id']}/test-card",
        json={"card_number": "4242 4242 4242 4242"},
        headers=headers,
    )
    assert paid.json["status"] == "succeeded"
    assert paid.json["fee_minor"] == 175
    assert "client_secret" not in paid.json
    listed = client.get(f"{BASE}/deposits", headers=headers).json
    assert [d["id"] for d in listed] == [body["id"]]
    assert wallet_summary(session, lena.id).available == 10_000
    again = client.post(
        f"{BASE}/deposits", json={"amount_minor": 10_000, "idempotency_key": "a"}, headers=headers
    )
    assert again.status_code == 201 and again.json["id"] == body["id"]


def test_declined_card(client, make_user, api_token, session):
    lena = make_user()
    body = _deposit(client, api_token(lena), card="4000000000009995")
    assert body["status"] == "failed" and body["failure_code"] == "insufficient_funds"
    assert wallet_summary(session, lena.id).available == 0


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"amount_minor": 10.5, "idempotency_key": "x"}, "amount_minor"),
        ({"amount_minor": "1000", "idempotency_key": "x"}, "amount_minor"),
        ({"amount_minor": 1000}, "idempotency_key"),
        ({"amount_minor": 999, "idempotency_key": "x"}, "amount_minor"),
        ({"amount_minor": 2_500_001, "idempotency_key": "x"}, "amount_minor"),
        ({"amount_minor": 1000, "idempotency_key": "x", "currency": "USD"}, "currency"),
        ({"amount_minor": 1000, "idempotency_key": "x", "extra": 1}, "extra"),
    ],
)
def test_bad_deposits_are_422_problems(client, make_user, api_token, session, payload, field):
    response = client.post(f"{BASE}/deposits", json=payload, headers=api_token(make_user()))
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert field in response.json["errors"]
    assert session.scalar(select(func.count(Payment.id))) == 0


def test_authorization(client, make_user, api_token):
    lena, bo = make_user(), make_user()
    body = _deposit(client, api_token(lena), card=None)
    assert client.get(f"{BASE}/deposits").status_code == 401
    assert client.get(f"{BASE}/deposits/{body['id']}", headers=api_token(bo)).status_code == 404
    paid = client.post(
        f"{BASE}/deposits/{body['id']}/test-card",
        json={"card_number": "4242424242424242"},
        headers=api_token(bo),
    )
    assert paid.status_code == 404
    read_only = client.post(
        f"{BASE}/deposits",
        json={"amount_minor": 1000, "idempotency_key": "r"},
        headers=api_token(lena, "read"),
    )
    assert read_only.status_code == 403
    assert client.get(f"{BASE}/deposits/{body['id']}", headers=api_token(lena)).status_code == 200


def test_cancel(client, make_user, api_token):
    lena = make_user()
    headers = api_token(lena)
    body = _deposit(client, headers, card=None)
    canceled = client.post(f"{BASE}/deposits/{body['id']}/cancel", headers=headers)
    assert canceled.json["status"] == "canceled"


def test_withdrawal_flow(client, make_user, api_token, session):
    lena = make_user(kyc="verified")
    headers = api_token(lena)
    _deposit(client, headers, amount=30_000)
    assert client.get(f"{BASE}/payout-account", headers=headers).status_code == 404
    refused = client.post(
        f"{BASE}/withdrawals", json={"amount_minor": 100, "idempotency_key": "w0"}, headers=headers
    )
    assert refused.status_code == 409  # no payout account yet
    link = client.post(
        f"{BASE}/payout-account",
        json={"refresh_url": "https://app.example/refresh", "return_url": "https://app.example/ok"},
        headers=headers,
    )
    assert link.status_code == 200 and link.json["onboarding_url"] == "https://app.example/ok"
    bank = client.post(
        f"{BASE}/payout-account/test-bank", json={"iban": "DE89370400440532013000"}, headers=headers
    )
    assert bank.json["payouts_enabled"] is True and bank.json["bank_last4"] == "3000"
    done = client.post(
        f"{BASE}/withdrawals",
        json={"amount_minor": 12_345, "idempotency_key": "w1"},
        headers=headers,
    )
    assert done.status_code == 201, done.json
    assert done.json["status"] == "paid" and done.json["gateway_transfer_id"]
    assert client.get(f"{BASE}/withdrawals/{done.json['id']}", headers=headers).status_code == 200
    assert len(client.get(f"{BASE}/withdrawals", headers=headers).json) == 1
    too_much = client.post(
        f"{BASE}/withdrawals",
        json={"amount_minor": 30_000, "idempotency_key": "w2"},
        headers=headers,
    )
    assert too_much.status_code == 409
    assert too_much.json["title"] == "Insufficient funds"
    assert wallet_summary(session, lena.id).available == 30_000 - 12_345
    other = api_token(make_user())
    assert client.get(f"{BASE}/withdrawals/{done.json['id']}", headers=other).status_code == 404


def test_withdrawal_needs_kyc(client, make_user, api_token, session):
    bo = make_user(kyc="unverified")
    response = client.post(
        f"{BASE}/withdrawals",
        json={"amount_minor": 100, "idempotency_key": "k"},
        headers=api_token(bo),
    )
    assert response.status_code == 403
    assert session.scalar(select(func.count(Payout.id))) == 0


def test_refunds_need_an_admin(client, make_user, api_token, session):
    lena = make_user()
    body = _deposit(client, api_token(lena), amount=5_000)
    payload = {"amount_minor": 2_000, "reason": "asked", "idempotency_key": "r1"}
    member = client.post(
        f"{BASE}/deposits/{body['id']}/refunds", json=payload, headers=api_token(lena)
    )
    assert member.status_code == 403
    admin = api_token(make_user(roles=["admin"]))
    refund = client.post(f"{BASE}/deposits/{body['id']}/refunds", json=payload, headers=admin)
    assert refund.status_code == 201 and refund.json["status"] == "succeeded"
    assert wallet_summary(session, lena.id).available == 3_000


def test_reconciliation_needs_an_auditor(client, make_user, api_token):
    lena = make_user()
    _deposit(client, api_token(lena))
    assert client.get(f"{BASE}/reconciliation", headers=api_token(lena)).status_code == 403
    auditor = api_token(make_user(roles=["auditor"]))
    report = client.get(f"{BASE}/reconciliation", headers=auditor)
    assert report.status_code == 200
    assert report.json["ok"] is True
    assert {line["kind"] for line in report.json["lines"]} == {"payment", "fee"}
    later = client.get(f"{BASE}/reconciliation?since=2999-01-01T00:00:00Z", headers=auditor)
    assert later.json["lines"] == []
