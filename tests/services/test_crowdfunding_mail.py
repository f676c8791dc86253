"""Crowdfunding's mails are its notifications' mails: written by the scheduled mail work
in each reader's language, only to people who keep the kind on, and saying what the
campaign's own English mails used to say (who, what, how much, what to do)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from p2pbank import clock
from p2pbank.crowdfunding import delivery, pledging, refunds, settlement
from p2pbank.crowdfunding import due as crowdfunding_due
from p2pbank.identity import services as identity
from p2pbank.notifications import kinds
from p2pbank.notifications import services as notifications
from p2pbank.notifications.models import Notification
from p2pbank.notifications.render import render
from p2pbank.payments.sandbox_gateway import SandboxGateway
from tests.dutch import dutch_translations, speak_pending_dutch
from tests.support.crowdfunding import (
    DECLINES_ON_CHARGE,
    an_initiator,
    backer_factory,
    card_pledge,
    key,
    live,
)
from tests.support.mail import notification_mails


@pytest.fixture
def gateway(session):
    return SandboxGateway(session, webhook_secret="whsec_test_crowdfunding_mail")


def about(session, person, words: str):
    """The one mail to `person` whose subject has `words`."""
    (found,) = [m for m in notification_mails(session, person.email) if words in m.subject]
    return found


def assert_every_notification_reads(session) -> None:
    """Each stored notification is a whole sentence in both languages, never the kind's
    name (which is what a parameter missing from the text would show)."""
    dutch = dutch_translations()
    for note in session.scalars(select(Notification)):
        english = render(note.kind, note.params, "en")
        assert english != note.kind, note.kind
        assert render(note.kind, note.params, "nl", dutch) not in (note.kind, english), note.kind


def test_a_failed_campaign_is_mailed_in_each_backers_language(
    session, make_user, frozen_now, monkeypatch
):
    speak_pending_dutch(monkeypatch)
    ian = an_initiator(make_user)
    campaign = live(session, ian, goal_minor=100_000)
    ann, bob = backer_factory(make_user, session)(2)
    identity.set_locale(session, ann.id, "nl")
    identity.set_locale(session, bob.id, "en")
    for who in (ann, bob):
        pledging.pledge(session, who.id, campaign.id, amount_minor=6_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)

    dutch = about(session, ann, "Street oven")
    assert dutch.subject == (
        "“Street oven” haalde het doel niet, dus niemand betaalt iets en er zijn geen kosten. "
        "Geld dat ervoor in een portemonnee was gereserveerd, is weer beschikbaar; geen "
        "opgeslagen kaart wordt gebruikt."
    )
    assert dutch.body.startswith(f"Hallo {ann.display_name},")
    english = about(session, bob, "Street oven")
    assert english.subject == (
        "“Street oven” did not reach its goal, so nobody is charged and no fee is due. "
        "Money held in a wallet for it is available again; no saved card is used."
    )
    assert english.body.startswith(f"Hello {bob.display_name},")
    assert f"/campaigns/{campaign.id}" in english.body
    assert about(session, ian, "did not reach its goal")  # the initiator is told too
    assert_every_notification_reads(session)


def test_a_kind_turned_off_is_not_mailed(session, make_user, frozen_now):
    ian = an_initiator(make_user)
    campaign = live(session, ian, goal_minor=100_000)
    ann, bob = backer_factory(make_user, session)(2)
    notifications.set_email_kinds(session, bob.id, set(kinds.KINDS) - {"campaign_failed"})
    for who in (ann, bob):
        pledging.pledge(session, who.id, campaign.id, amount_minor=6_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    assert about(session, ann, "did not reach its goal")
    assert [m for m in notification_mails(session, bob.email) if "goal" in m.subject] == []


def test_declined_card_refund_and_dropped_pledge_are_mailed(
    session, make_user, gateway, frozen_now
):
    ian = an_initiator(make_user)
    campaign = live(session, ian, goal_minor=10_000)
    ann, bob = backer_factory(make_user, session)(2)
    card_pledge(session, gateway, ann, campaign, 4_000, card=DECLINES_ON_CHARGE)
    bobs = pledging.pledge(session, bob.id, campaign.id, amount_minor=8_000, idempotency_key=key())
    clock.set_now(campaign.deadline_at)
    crowdfunding_due.run_due(session, gateway=gateway)

    declined = about(session, ann, "declined")
    assert declined.subject == (
        "Your card was declined for your pledge to “Street oven”. Add another card under My "
        "pledges within 7 days, or the pledge is dropped."
    )
    assert "http://127.0.0.1:5000/pledges" in declined.body
    refunds.refund_pledge(session, ian.id, bobs.id, gateway=gateway)  # still collecting
    refunded = about(session, bob, "refunded")
    assert refunded.subject == "The initiator of “Street oven” refunded your pledge of €80.00."
    clock.set_now(campaign.deadline_at + timedelta(days=7))
    crowdfunding_due.run_due(session, gateway=gateway)
    dropped = about(session, ann, "could not be charged")
    assert dropped.subject == (
        "Your card could not be charged within 7 days, so your pledge to “Street oven” was "
        "dropped. Nothing was charged."
    )
    assert_every_notification_reads(session)


def test_shipped_rewards_and_reported_problems_are_mailed(session, make_user, frozen_now):
    ian = an_initiator(make_user)
    campaign, (tier,) = live(
        session,
        ian,
        goal_minor=10_000,
        tiers=[{"title": "Loaf", "min_pledge_minor": 1_000, "quantity_limit": 5}],
    )
    (ann,) = backer_factory(make_user, session)(1)
    mine = pledging.pledge(
        session, ann.id, campaign.id, amount_minor=10_000, idempotency_key=key(), tier_id=tier.id
    )
    clock.set_now(campaign.deadline_at)
    settlement.close_campaign(session, campaign.id)
    assert about(session, ann, "reached its goal").subject == "“Street oven” reached its goal."
    charged = about(session, ann, "charged")
    assert charged.subject == "Your pledge of €100.00 to “Street oven” was charged."
    statement = about(session, ian, "Payout")
    assert statement.subject == (
        "Payout of “Street oven”: €100.00 collected, €0.00 refunded, platform fee (5%) €5.00, "
        "card processing fees €0.00; €95.00 paid to your wallet."
    )
    delivery.mark_tier_shipped(session, ian.id, tier.id)
    shipped = about(session, ann, "on its way")
    assert shipped.subject == (
        "Your reward from “Street oven” is on its way. Confirm receipt (or report a problem) "
        "under My pledges."
    )
    delivery.report_problem(session, ann.id, mine.id, note="The loaf arrived\nmouldy")
    problem = about(session, ian, "problem")
    assert problem.subject == "A backer of “Street oven” reports a problem with a reward."
    assert "The loaf arrived\nmouldy" in problem.body
    assert f"/campaigns/{campaign.id}/dashboard" in problem.body
    assert_every_notification_reads(session)
