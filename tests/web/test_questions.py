"""Questions and answers on listings and campaigns: pages and API."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from p2pbank import clock
from p2pbank.questions.models import Question
from tests.support.crowdfunding import an_initiator, live
from tests.support.lending import borrower, lender, listing


def text(response) -> str:
    return response.get_data(as_text=True)


def test_a_lender_asks_the_borrower_answers_and_the_clock_shows_it(
    session, make_user, signed_in, frozen_now
):
    bo = borrower(make_user, session, "Bo")
    lena = lender(make_user, session, "Lena")
    request = listing(session, bo)
    page = f"/lending/listings/{request.id}"
    as_lena, as_bo = signed_in(lena), signed_in(bo)

    asked = as_lena.submit(
        page,
        {"body": "What is the car for, <b>exactly</b>?"},
        action=f"/questions/listing/{request.id}",
    )
    assert asked.status_code == 302 and asked.headers["Location"].endswith("#questions")
    shown = text(as_lena.get(page))
    assert "What is the car for, &lt;b&gt;exactly&lt;/b&gt;?" in shown  # plain text, escaped
    assert "unanswered for 0 h" in shown
    assert "Your public answer" not in shown  # only Bo answers
    assert "Ask Bo a public question" in shown
    (question,) = session.scalars(select(Question)).all()

    clock.set_now(frozen_now + timedelta(hours=3, minutes=10))
    refused = as_lena.submit(
        page, {"body": "I answer myself"}, action=f"/questions/{question.id}/answer"
    )
    assert refused.status_code == 403
    as_bo.submit(
        page, {"body": "Driving to my new job."}, action=f"/questions/{question.id}/answer"
    )
    shown = text(as_lena.get(page))
    assert "Driving to my new job." in shown and "answered in 3 h" in shown
    assert "answered 100.00% of questions within 24 hours (1 of 1)" in shown
    assert "answers 100.00% of questions within 24 hours" in shown  # the badge's tooltip
    profile = text(as_lena.get(f"/trust/members/{bo.id}"))
    assert "100.00% (1 of 1)" in profile[profile.index("data-answers") :]

    again = as_bo.submit(page, {"body": "Twice"}, action=f"/questions/{question.id}/answer")
    assert again.status_code == 302
    session.refresh(question)
    assert question.answer == "Driving to my new job."  # answered once


def test_nobody_asks_themselves_and_closed_subjects_take_no_questions(
    session, make_user, signed_in, frozen_now
):
    ian = an_initiator(make_user)
    campaign = live(session, ian)
    page = f"/campaigns/{campaign.id}"
    signed_in(ian).submit(
        page, {"body": "Shall I ask myself?"}, action=f"/questions/campaign/{campaign.id}"
    )
    assert session.scalars(select(Question)).all() == []
    assert "Ask Ian a public question" not in text(signed_in(ian).get(page))  # no form for Ian
    assert "Ask Ian a public question" in text(signed_in(make_user(name="Bea")).get(page))


def test_the_api_twins_and_moderation(session, make_user, client, api_token, frozen_now):
    ian = an_initiator(make_user)
    campaign = live(session, ian)
    bea = make_user(roles=["backer"], name="Bea")
    admin = make_user(roles=["admin"], kyc="verified")
    url = f"/api/v1/questions/campaign/{campaign.id}"

    made = client.post(url, json={"body": "Gluten free bread?"}, headers=api_token(bea))
    assert made.status_code == 201, made.get_json()
    qid = made.get_json()["id"]
    own = client.post(url, json={"body": "Me asking me?"}, headers=api_token(ian))
    assert own.status_code == 409 and own.mimetype == "application/problem+json"
    other = client.post(
        f"/api/v1/questions/{qid}/answer", json={"body": "Yes"}, headers=api_token(bea)
    )
    assert other.status_code == 403
    answered = client.post(
        f"/api/v1/questions/{qid}/answer", json={"body": "Yes, some."}, headers=api_token(ian)
    )
    assert answered.status_code == 200 and answered.get_json()["answer"] == "Yes, some."
    listed = client.get(url, headers=api_token(bea))
    (q,) = listed.get_json()
    assert q["asker"]["user_id"] == bea.id and q["answered_in_time"] and q["hours"] == 0

    refused = client.post(
        f"/api/v1/questions/{qid}/hide", json={"reason": "spam"}, headers=api_token(bea)
    )
    assert refused.status_code == 403
    hidden = client.post(
        f"/api/v1/questions/{qid}/hide", json={"reason": "off topic"}, headers=api_token(admin)
    )
    assert hidden.status_code == 200
    assert client.get(url, headers=api_token(bea)).get_json() == []
    missing = client.get("/api/v1/questions/campaign/999999", headers=api_token(bea))
    assert missing.status_code == 404
