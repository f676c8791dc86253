"""Wallet and ledger API: the same queries as the pages, bearer tokens, problem+json."""

from __future__ import annotations

import pytest

from p2pbank.ledger import holds, services
from p2pbank.ledger.services import PLATFORM_GATEWAY_CLEARING as CLEARING
from p2pbank.money import Money
from tests.support import money


@pytest.fixture
def people(session, make_user):
    lena, bo = make_user(), make_user()
    auditor = make_user(roles=["auditor"], kyc="verified")
    services.ensure_platform_account(session, CLEARING)
    services.ensure_wallet(session, lena.id)
    services.ensure_wallet(session, bo.id)
    deposit = money.deposit(session, lena.id, 5_000, key="deposit:api", commit=False)
    services.transfer(
        session,
        from_code=services.wallet_code(lena.id),
        to_code=services.wallet_code(bo.id),
        amount=Money(1_250),
        kind="transfer",
        idempotency_key="pay:api",
    )
    holds.hold(
        session,
        account_code=services.wallet_code(lena.id),
        amount=Money(700),
        idempotency_key="hold:api",
        memo="pledge",
    )
    session.commit()
    return {"lena": lena, "bo": bo, "auditor": auditor, "deposit": deposit}


def test_wallet_in_minor_units(client, api_token, people):
    response = client.get("/api/v1/wallet", headers=api_token(people["lena"], "read"))
    assert response.status_code == 200
    body = response.get_json()
    assert body["account_code"] == services.wallet_code(people["lena"].id)
    assert (body["posted_minor"], body["held_minor"], body["available_minor"]) == (
        3_750,
        700,
        3_050,
    )
    assert body["currency"] == "EUR"
    assert [h["amount_minor"] for h in body["open_holds"]] == [700]


def test_wallet_statement_with_running_balance(client, api_token, people):
    headers = api_token(people["lena"], "read")
    body = client.get("/api/v1/wallet/statement", headers=headers).get_json()
    assert body["total"] == 2
    assert [(x["amount_minor"], x["balance_after_minor"]) for x in body["lines"]] == [
        (-1_250, 3_750),
        (5_000, 5_000),
    ]
    paged = client.get("/api/v1/wallet/statement?per_page=1&page=2", headers=headers).get_json()
    assert [x["amount_minor"] for x in paged["lines"]] == [5_000]
    assert paged["pages"] == 2


def test_bad_paging_is_a_problem(client, api_token, people):
    response = client.get(
        "/api/v1/wallet/statement?per_page=0", headers=api_token(people["lena"], "read")
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "per_page" in response.get_json()["errors"]


def test_wallet_needs_a_token(client, people):
    response = client.get("/api/v1/wallet")
    assert response.status_code == 401
    assert response.mimetype == "application/problem+json"


def test_each_person_sees_only_their_own_wallet(client, api_token, people):
    body = client.get("/api/v1/wallet", headers=api_token(people["bo"], "read")).get_json()
    assert body["account_code"] == services.wallet_code(people["bo"].id)
    assert body["available_minor"] == 1_250


AUDITOR_PATHS = [
    "/api/v1/ledger/accounts",
    "/api/v1/ledger/accounts/platform:gateway_clearing",
    "/api/v1/ledger/accounts/platform:gateway_clearing/statement",
    "/api/v1/ledger/entries/{deposit}",
    "/api/v1/ledger/trial-balance",
]


@pytest.mark.parametrize("path", AUDITOR_PATHS)
def test_auditor_endpoints_authorization(client, api_token, make_user, people, path):
    path = path.format(deposit=people["deposit"].id)
    assert client.get(path).status_code == 401
    refused = client.get(path, headers=api_token(people["lena"], "read"))
    assert refused.status_code == 403
    assert refused.mimetype == "application/problem+json"
    assert client.get(path, headers=api_token(people["auditor"], "read")).status_code == 200
    admin = make_user(roles=["admin"], kyc="verified", email="root@example.test")
    assert client.get(path, headers=api_token(admin, "read")).status_code == 200


def test_auditor_reads_accounts_entries_and_trial_balance(client, api_token, people):
    headers = api_token(people["auditor"], "read")
    accounts = client.get("/api/v1/ledger/accounts?prefix=user:", headers=headers).get_json()
    assert {a["code"] for a in accounts["accounts"]} == {
        services.wallet_code(people["lena"].id),
        services.wallet_code(people["bo"].id),
    }
    clearing = client.get(f"/api/v1/ledger/accounts/{CLEARING}", headers=headers).get_json()
    assert clearing["posted_minor"] == -5_000 and clearing["type"] == "asset"
    entry = client.get(f"/api/v1/ledger/entries/{people['deposit'].id}", headers=headers).get_json()
    assert entry["content_hash"] == people["deposit"].content_hash
    assert sorted((p["account_code"], p["amount_minor"], p["side"]) for p in entry["postings"]) == [
        (CLEARING, -5_000, "debit"),
        (services.wallet_code(people["lena"].id), 5_000, "credit"),
    ]
    trial = client.get("/api/v1/ledger/trial-balance", headers=headers).get_json()
    assert trial["balanced"] is True
    assert trial["totals"] == [{"currency": "EUR", "debit_minor": 5_000, "credit_minor": 5_000}]


def test_missing_account_and_entry_are_404(client, api_token, people):
    headers = api_token(people["auditor"], "read")
    assert (
        client.get("/api/v1/ledger/accounts/user:999999:wallet", headers=headers).status_code == 404
    )
    missing = client.get("/api/v1/ledger/entries/999999", headers=headers)
    assert missing.status_code == 404 and missing.mimetype == "application/problem+json"


def test_auditors_page_through_the_journal_with_what_each_hash_covers(
    client, api_token, people, session
):
    from p2pbank.audit.journal import record_from_json
    from p2pbank.ledger.models import JournalEntry

    headers = api_token(people["auditor"], "read")
    first = client.get("/api/v1/ledger/journal?limit=1", headers=headers)
    assert first.status_code == 200, first.get_json()
    body = first.get_json()
    assert [e["id"] for e in body["entries"]] == [people["deposit"].id]
    assert body["next_after"] == people["deposit"].id
    rest = client.get(f"/api/v1/ledger/journal?after={body['next_after']}", headers=headers)
    entries = body["entries"] + rest.get_json()["entries"]
    assert rest.get_json()["next_after"] is None
    assert len(entries) == 2
    deposit = entries[0]
    assert deposit["postings"] == [
        {"account_code": CLEARING, "amount_minor": -5_000},
        {"account_code": services.wallet_code(people["lena"].id), "amount_minor": 5_000},
    ]
    assert deposit["created_at"].endswith("+00:00") and "." in deposit["created_at"]
    for served in entries:  # the outside verifier recomputes exactly the stored hash
        record = record_from_json(served)
        assert record.content_hash() == session.get(JournalEntry, record.entry_id).content_hash


@pytest.mark.parametrize("role", [None, "admin"])
def test_only_auditors_download_the_journal(client, api_token, people, make_user, role):
    asker = people["lena"] if role is None else make_user(roles=[role], kyc="verified")
    response = client.get("/api/v1/ledger/journal", headers=api_token(asker, "read"))
    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/ledger/journal").status_code == 401


@pytest.mark.parametrize("query", ["limit=0", "limit=501", "after=-1", "after=x"])
def test_bad_journal_paging_is_a_problem(client, api_token, people, query):
    response = client.get(
        f"/api/v1/ledger/journal?{query}", headers=api_token(people["auditor"], "read")
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
