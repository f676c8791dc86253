"""Trust API: the same services as the pages, bearer tokens, strict JSON, problem+json."""

from __future__ import annotations

from datetime import timedelta

import pytest

from p2pbank import clock
from p2pbank.audit.services import pseudonym
from p2pbank.trust import refresh, services

PROBLEM = "application/problem+json"


@pytest.fixture
def deal(session, make_user, frozen_now):
    bo = make_user(roles=["borrower"], kyc="verified", name="Bo")
    lena = make_user(roles=["lender"], kyc="verified", name="Lena")
    (transaction,) = services.record_completed_transaction(
        session, ref_type="loan", ref_id=5, principal_id=bo.id, counterparty_ids=[lena.id]
    )
    session.commit()
    return bo, lena, transaction


def test_rate_through_the_api_sealed_then_shown(client, api_token, deal):
    bo, lena, transaction = deal
    lena_h, bo_h = api_token(lena), api_token(bo)
    pending = client.get("/api/v1/trust/ratings/pending", headers=lena_h)
    assert pending.status_code == 200
    (item,) = pending.json
    assert (item["transaction_id"], item["other_side"]) == (transaction.id, "borrower")
    assert item["details"] == ["communication", "kept_schedule"]

    url = f"/api/v1/trust/transactions/{transaction.id}/ratings"
    made = client.post(
        url,
        json={"value": "positive", "comment": "Smooth", "communication": 4},
        headers=lena_h,
    )
    assert made.status_code == 201, made.json
    assert (made.json["state"], made.json["value"], made.json["details"]) == (
        "sealed",
        "positive",
        {"communication": 4},
    )
    (about_bo,) = client.get("/api/v1/trust/ratings", headers=bo_h).json["received"]
    assert (about_bo["state"], about_bo["value"], about_bo["comment"]) == ("sealed", None, None)

    again = client.post(url, json={"value": "negative"}, headers=lena_h)
    assert again.status_code == 409 and again.mimetype == PROBLEM

    assert client.post(url, json={"value": "positive"}, headers=bo_h).status_code == 201
    profile = client.get(f"/api/v1/trust/members/{bo.id}", headers=lena_h).json
    assert profile["feedback_score"] == 1
    assert profile["percent_positive_bps"] == 10_000
    assert profile["recent"][0]["comment"] == "Smooth"
    assert profile["grade"]["grade"] == "D" and profile["grade"]["as_of"] is None


def test_bad_input_is_refused_with_field_errors(client, api_token, deal):
    bo, lena, transaction = deal
    url = f"/api/v1/trust/transactions/{transaction.id}/ratings"
    for body, field in (
        ({"value": "great"}, "value"),
        ({"value": "positive", "communication": "4"}, "communication"),  # strict integers
        ({"value": "positive", "communication": 0}, "communication"),
        ({"value": "positive", "comment": "x" * 501}, "comment"),
        ({"value": "positive", "as_described": 4}, "as_described"),  # not asked of borrowers
    ):
        response = client.post(url, json=body, headers=api_token(lena))
        assert response.status_code == 422, body
        assert response.mimetype == PROBLEM
        assert field in response.json["errors"], response.json


def test_the_window_and_strangers(client, api_token, make_user, deal, frozen_now):
    bo, lena, transaction = deal
    url = f"/api/v1/trust/transactions/{transaction.id}/ratings"
    stranger = make_user()
    assert (
        client.post(url, json={"value": "neutral"}, headers=api_token(stranger)).status_code == 404
    )
    clock.set_now(frozen_now + timedelta(days=60))
    late = client.post(url, json={"value": "neutral"}, headers=api_token(lena))
    assert late.status_code == 409 and "over" in late.json["detail"]
    read_only = client.post(url, json={"value": "neutral"}, headers=api_token(lena, "read"))
    assert read_only.status_code == 403


def test_revision_request_revision_and_hiding(session, client, api_token, make_user, deal):
    bo, lena, transaction = deal
    rating = services.rate_counterparty(session, lena.id, transaction.id, value="negative")
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")
    asked = client.post(
        f"/api/v1/trust/ratings/{rating.id}/revision-request",
        json={"note": "Please reconsider"},
        headers=api_token(bo),
    )
    assert asked.status_code == 201 and asked.json["status"] == "open"
    revise = f"/api/v1/trust/ratings/{rating.id}/revision"
    assert client.post(revise, json={"value": "positive"}, headers=api_token(bo)).status_code == 403
    revised = client.post(revise, json={"value": "neutral"}, headers=api_token(lena))
    assert revised.status_code == 200
    assert (revised.json["value"], revised.json["revision"]) == ("neutral", "revised")
    assert (
        client.post(revise, json={"value": "positive"}, headers=api_token(lena)).status_code == 409
    )

    hide = f"/api/v1/trust/ratings/{rating.id}/hide"
    body = {"reason": "off_topic", "note": "About the weather"}
    assert client.post(hide, json=body, headers=api_token(bo)).status_code == 403
    admin = make_user(roles=["admin"], kyc="verified")
    hidden = client.post(hide, json=body, headers=api_token(admin))
    assert hidden.status_code == 200
    assert (hidden.json["hidden_reason"], hidden.json["hidden_note"]) == (
        "off_topic",
        "About the weather",
    )
    twice = client.post(hide, json=body, headers=api_token(admin))
    assert twice.status_code == 409


def test_ranking_is_by_wilson_lower_bound(session, client, api_token, make_user, frozen_now):
    """One positive out of one ranks below nine positives out of ten."""
    lucky = make_user(name="Lucky")
    steady = make_user(name="Steady")
    raters = [make_user() for _ in range(10)]
    for n, rater in enumerate(raters):
        (t,) = services.record_completed_transaction(
            session,
            ref_type="loan",
            ref_id=100 + n,
            principal_id=steady.id,
            counterparty_ids=[rater.id],
        )
        session.commit()
        services.rate_counterparty(
            session, rater.id, t.id, value="negative" if n == 0 else "positive"
        )
    (t,) = services.record_completed_transaction(
        session, ref_type="loan", ref_id=99, principal_id=lucky.id, counterparty_ids=[raters[0].id]
    )
    session.commit()
    services.rate_counterparty(session, raters[0].id, t.id, value="positive")
    clock.advance(timedelta(days=14))
    ranking = client.get("/api/v1/trust/members", headers=api_token(lucky)).json
    order = [m["display_name"] for m in ranking["members"]]
    assert order.index("Steady") < order.index("Lucky")
    steady_row = next(m for m in ranking["members"] if m["display_name"] == "Steady")
    assert (steady_row["positives"], steady_row["negatives"]) == (9, 1)
    assert client.get("/api/v1/trust/members?page=0", headers=api_token(lucky)).status_code == 422


def test_the_breakdown_is_for_auditors_and_agrees_with_what_was_published(
    session, client, api_token, make_user, deal
):
    bo, lena, transaction = deal
    services.rate_counterparty(session, lena.id, transaction.id, value="positive")
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")
    refresh.recompute_trust(session)
    auditor = make_user(roles=["auditor"], kyc="verified")
    url = f"/api/v1/trust/audit/members/{pseudonym(session, bo.id)}"
    assert client.get(url, headers=api_token(bo)).status_code == 403
    found = client.get(url, headers=api_token(auditor))
    assert found.status_code == 200
    body = found.json
    assert body["all_agree"] is True and body["differences"] == []
    assert body["grade"] == "D" and body["feedback_score"] == 1
    assert {c["score"] for c in body["comparisons"]} >= {"grade", "feedback_score"}
    assert body["ratings"][0]["rater"] == pseudonym(session, lena.id)
    bad = client.get("/api/v1/trust/audit/members/xyz", headers=api_token(auditor))
    assert bad.status_code == 422 and bad.mimetype == PROBLEM
    unknown = client.get("/api/v1/trust/audit/members/" + "0" * 32, headers=api_token(auditor))
    assert unknown.status_code == 404
