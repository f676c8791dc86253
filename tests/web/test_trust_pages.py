"""Trust pages through a signed-in browser: rating a counterparty (sealed, then both
shown), form errors, comments shown as plain text, revision request and revision,
moderation, the profile and the ranking, the dashboard panel, the auditor's breakdown."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from p2pbank import clock
from p2pbank.audit.services import pseudonym
from p2pbank.trust import refresh, services
from p2pbank.trust.models import Rating


def text(response) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def deal(session, make_user, frozen_now):
    """Bo (borrower) and Lena (lender) finished a loan: each may rate the other."""
    bo = make_user(roles=["borrower"], kyc="verified", name="Bo Borrower")
    lena = make_user(roles=["lender"], kyc="verified", name="Lena Lender")
    (transaction,) = services.record_completed_transaction(
        session, ref_type="loan", ref_id=12, principal_id=bo.id, counterparty_ids=[lena.id]
    )
    session.commit()
    return bo, lena, transaction


def test_rating_through_the_pages_stays_sealed_until_both_rated(session, signed_in, deal):
    bo, lena, transaction = deal
    lena_browser, bo_browser = signed_in(lena), signed_in(bo)
    listing = text(lena_browser.get("/trust/ratings"))
    assert "Rate Bo Borrower" in listing and "loan #12" in listing

    form_url = f"/trust/transactions/{transaction.id}/rate"
    form = text(lena_browser.get(form_url))
    assert "Kept to the schedule" in form and "As described" not in form
    sent = lena_browser.submit(
        form_url,
        {
            "value": "positive",
            "comment": "<script>alert(1)</script> on time",
            "communication": "5",
            "kept_schedule": "",
        },
    )
    assert sent.status_code == 302
    assert "sealed until Bo Borrower rates you" in text(lena_browser.get("/trust/ratings"))
    bo_view = text(bo_browser.get("/trust/ratings"))
    assert "Sealed: shown when you rate Lena Lender" in bo_view
    assert "on time" not in bo_view  # the content stays sealed to him
    assert "Lena Lender has rated you; rate to see it." in bo_view

    sent = bo_browser.submit(f"/trust/transactions/{transaction.id}/rate", {"value": "positive"})
    shown = text(bo_browser.get(sent.headers["Location"]))
    assert "Both ratings are now shown." in shown
    assert "&lt;script&gt;alert(1)&lt;/script&gt; on time" in shown
    assert "<script>alert(1)</script>" not in shown
    profile = text(bo_browser.get(f"/trust/members/{bo.id}"))
    assert "Communication: 5/5" in profile
    assert re.search(r"data-feedback-score>1<", profile)


def test_the_rating_form_comes_back_with_its_errors(signed_in, deal):
    bo, lena, transaction = deal
    browser = signed_in(lena)
    url = f"/trust/transactions/{transaction.id}/rate"
    missing = browser.submit(url, {"comment": "x" * 501, "communication": "9"})
    assert missing.status_code == 422
    page = text(missing)
    assert "Choose positive, neutral or negative." in page
    assert "Give 1 to 5 stars." in page
    assert "x" * 501 in page  # what was typed comes back
    wrong_side = browser.submit(url, {"value": "neutral", "as_described": "3"})
    assert wrong_side.status_code == 422
    assert "not asked about this side" in text(wrong_side)


def test_rating_twice_or_too_late_is_refused(signed_in, deal, frozen_now):
    bo, lena, transaction = deal
    browser = signed_in(lena)
    url = f"/trust/transactions/{transaction.id}/rate"
    assert browser.submit(url, {"value": "neutral"}).status_code == 302
    assert browser.get(url).status_code == 404  # nothing left to rate here
    clock.set_now(frozen_now + timedelta(days=61))
    assert signed_in(bo).get(url).status_code == 404


def test_a_revision_is_asked_for_and_given_through_the_pages(session, signed_in, deal):
    bo, lena, transaction = deal
    mine = services.rate_counterparty(session, lena.id, transaction.id, value="negative")
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")
    bo_browser, lena_browser = signed_in(bo), signed_in(lena)
    asked = bo_browser.submit(
        "/trust/ratings",
        {"note": "The bank delayed it"},
        action=f"/trust/ratings/{mine.id}/revision-request",
    )
    assert asked.status_code == 302
    again = bo_browser.submit(
        "/trust/ratings", {"note": "again"}, action=f"/trust/ratings/{mine.id}/revision-request"
    )
    assert "asked once" in text(bo_browser.get(again.headers["Location"]))

    page = text(lena_browser.get("/trust/ratings"))
    assert "Bo Borrower asks you to reconsider." in page and "The bank delayed it" in page
    down = lena_browser.submit(f"/trust/ratings/{mine.id}/revise", {"value": "negative"})
    assert down.status_code == 422
    assert "raises the rating or a detail" in text(down)
    up = lena_browser.submit(
        f"/trust/ratings/{mine.id}/revise", {"value": "neutral", "comment": "Resolved"}
    )
    assert up.status_code == 302
    session.refresh(mine)
    assert (mine.value, mine.comment) == (0, "Resolved")
    assert lena_browser.get(f"/trust/ratings/{mine.id}/revise").status_code == 302


def test_a_moderator_hides_a_rating_and_both_parties_see_why(session, make_user, signed_in, deal):
    bo, lena, transaction = deal
    rating = services.rate_counterparty(
        session, lena.id, transaction.id, value="negative", comment="He lives at 5 Elm St"
    )
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")
    admin = make_user(roles=["admin"], kyc="verified")
    browser = signed_in(admin)
    assert "He lives at 5 Elm St" in text(browser.get("/trust/moderation"))
    refused = browser.submit(
        "/trust/moderation",
        {"reason": "personal_data", "note": "x"},
        action=f"/trust/ratings/{rating.id}/hide",
    )
    assert "Write 3 to 500 characters." in text(browser.get(refused.headers["Location"]))
    done = browser.submit(
        "/trust/moderation",
        {"reason": "personal_data", "note": "an address"},
        action=f"/trust/ratings/{rating.id}/hide",
    )
    assert done.status_code == 302
    session.expire_all()
    assert session.get(Rating, rating.id).hidden_reason == "personal_data"
    assert "an address" in text(browser.get("/trust/moderation?hidden=1"))
    bo_page = text(signed_in(bo).get("/trust/ratings"))
    assert "Hidden by a moderator: Personal data." in bo_page
    assert "5 Elm St" not in bo_page
    assert "5 Elm St" not in text(signed_in(bo).get(f"/trust/members/{bo.id}"))


def test_profile_ranking_and_dashboard_panel(session, make_user, signed_in, deal):
    bo, lena, transaction = deal
    services.rate_counterparty(session, lena.id, transaction.id, value="positive")
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")
    refresh.recompute_trust(session)
    browser = signed_in(lena)
    profile = text(browser.get(f"/trust/members/{bo.id}"))
    assert "Risk grade" in profile and "no repayment history yet" in profile
    assert "data-percent-positive>100.0%<" in profile
    assert "Published" in profile and "2026-12.1" in profile
    ranking = text(browser.get("/trust/members"))
    assert "Bo Borrower" in ranking and "Lena Lender" in ranking
    assert browser.get("/trust/members?page=x").status_code == 200
    assert browser.get("/trust/members/999999").status_code == 404
    dashboard = text(browser.get("/dashboard"))
    assert "Reputation" in dashboard and "Feedback score 1" in dashboard


def test_the_auditor_sees_a_members_scores_recomputed_from_the_log(
    session, make_user, signed_in, deal
):
    bo, lena, transaction = deal
    services.rate_counterparty(session, lena.id, transaction.id, value="positive")
    services.rate_counterparty(session, bo.id, transaction.id, value="positive")
    refresh.recompute_trust(session)
    auditor = make_user(roles=["auditor"], kyc="verified")
    browser = signed_in(auditor)
    subject = pseudonym(session, bo.id)
    page = text(browser.get(f"/trust/audit?subject={subject}"))
    assert "Published and recomputed" in page
    assert "<strong>NO</strong>" not in page
    assert 'data-score="grade"' in page and pseudonym(session, lena.id) in page
    assert browser.get("/trust/audit?subject=zz").status_code == 422
    assert browser.get("/trust/audit?subject=" + "0" * 32).status_code == 404
    assert browser.get("/trust/audit").status_code == 200
    assert signed_in(bo).get("/trust/audit").status_code == 403
