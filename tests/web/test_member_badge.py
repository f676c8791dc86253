"""The member badge beside a name: published feedback score and star, % positive, identity
checked, member since, a link to the profile -- on listings, campaigns and comments."""

from __future__ import annotations

import re
from datetime import timedelta

from p2pbank import clock
from p2pbank.trust import refresh
from p2pbank.trust import services as trust
from tests.support.crowdfunding import an_initiator, live
from tests.support.lending import borrower, lender, listing
from tests.support.trust import completed


def badge_of(html: str, user_id: int) -> str:
    match = re.search(
        rf'<span class="member-badge" data-member="{user_id}".*?</span></span>', html, re.S
    )
    assert match, f"no badge for member {user_id}"
    return match.group(0)


def test_a_borrower_with_eleven_happy_lenders_and_one_unhappy_shows_a_yellow_star(
    session, make_user, signed_in, frozen_now
):
    bo = borrower(make_user, session, "Bo")
    for n in range(12):
        rater = make_user(roles=["lender"], kyc="verified", name=f"Rater {n}")
        transaction = completed(session, bo, rater)
        value = "negative" if n == 11 else "positive"
        trust.rate_counterparty(session, rater.id, transaction.id, value=value)
        trust.rate_counterparty(session, bo.id, transaction.id, value="positive")
    refresh.recompute_trust(session, clock.now())
    listing(session, bo)

    html = signed_in(lender(make_user, session)).get("/lending/").get_data(as_text=True)
    badge = badge_of(html, bo.id)
    assert f'href="/trust/members/{bo.id}"' in badge and ">Bo</a>" in badge
    assert '(10<span class="star star-yellow"' in badge  # 11 positive raters - 1 negative
    assert "91.6" in badge  # 11 of 12 positive
    assert "ID checked" in badge
    assert "member since 2026-11" in badge


def test_campaign_pages_badge_the_initiator_and_commenters(
    session, make_user, signed_in, client, frozen_now
):
    from p2pbank.crowdfunding import discussion

    ian = an_initiator(make_user)
    campaign = live(session, ian, title="Street oven")
    bea = make_user(roles=["backer"], name="Bea")
    discussion.post_comment(session, bea.id, campaign.id, body="Lovely idea!")
    html = client.get(f"/campaigns/{campaign.id}").get_data(as_text=True)
    assert "ID checked" in badge_of(html, ian.id)
    assert "ID checked" not in badge_of(html, bea.id)  # Bea's identity is not checked
    explore = client.get("/campaigns").get_data(as_text=True)
    assert badge_of(explore, ian.id)


def test_the_profile_shows_the_feedback_table_the_repayment_record_and_grade_history(
    session, make_user, signed_in, frozen_now
):
    bo = borrower(make_user, session, "Bo")
    old = make_user(roles=["lender"], kyc="verified", name="Early rater")
    transaction = completed(session, bo, old)
    trust.rate_counterparty(session, old.id, transaction.id, value="negative")
    trust.rate_counterparty(session, bo.id, transaction.id, value="positive")
    refresh.recompute_trust(session, clock.now())
    clock.set_now(clock.now() + timedelta(days=100))  # the negative is now 3 months old
    recent = make_user(roles=["lender"], kyc="verified", name="Recent rater")
    transaction = completed(session, bo, recent)
    trust.rate_counterparty(session, recent.id, transaction.id, value="positive")
    trust.rate_counterparty(session, bo.id, transaction.id, value="positive")
    refresh.recompute_trust(session, clock.now())

    html = signed_in(lender(make_user, session)).get(f"/trust/members/{bo.id}")
    page = html.get_data(as_text=True)
    table = page[page.index("data-feedback-table") : page.index("data-repayment-record")]
    cells = re.findall(r'<td class="num">(\d+)</td>', table)
    # positive, neutral, negative rows; columns 1, 6 and 12 months
    assert cells == ["1", "1", "1", "0", "0", "0", "0", "1", "1"]
    assert "Instalments paid on time" in page
    assert page.count('class="chart-bar chart-bar-') == 2  # two published score runs


def test_the_api_embeds_badges_in_listings_loans_and_campaigns(
    session, make_user, client, api_token, frozen_now
):
    bo = borrower(make_user, session, "Bo", money=10_000)
    lena = lender(make_user, session, "Lena")
    request = listing(session, bo)
    ian = an_initiator(make_user)
    campaign = live(session, ian, title="Street oven")

    listings = client.get("/api/v1/lending/listings", headers=api_token(lena)).get_json()
    (shown,) = listings["listings"]
    assert shown["borrower"]["user_id"] == bo.id and shown["borrower"]["identity_checked"]
    assert shown["borrower"]["score"] == 0 and shown["borrower"]["star"] is None
    detail = client.get(f"/api/v1/lending/listings/{request.id}", headers=api_token(lena))
    assert detail.get_json()["listing"]["borrower"]["name"] == "Bo"

    from p2pbank.lending import ordering

    ordering.commit_to_listing(session, lena.id, request.id, amount_minor=100_000, rate_bps=1_000)
    loans = client.get("/api/v1/lending/loans", headers=api_token(bo)).get_json()
    loan = client.get(f"/api/v1/lending/loans/{loans[0]['id']}", headers=api_token(bo))
    assert loan.get_json()["borrower"]["user_id"] == bo.id

    cards = client.get("/api/v1/campaigns", headers=api_token(lena)).get_json()
    assert cards["items"][0]["initiator"]["user_id"] == ian.id
    one = client.get(f"/api/v1/campaigns/{campaign.id}", headers=api_token(lena)).get_json()
    assert one["initiator"]["name"] == ian.display_name
