"""What crowdfunding tells people, in one place (flush-only, in the command's transaction).

Every event is a notification; its mail is written later by the scheduled mail work, in
the reader's language, and only to people who keep the kind on."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.orm import Session

from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.models import Campaign, Payout, Pledge
from p2pbank.notifications.services import notify, notify_each

UPDATE_MAILED_CHARS = 4_000  # an update's text in its mail (the page has all of it)


def _link(campaign: Campaign) -> str:
    return f"/campaigns/{campaign.id}"


def _money(campaign: Campaign, row: Pledge) -> dict[str, object]:
    return {"title": campaign.title, "amount_minor": row.amount_minor, "currency": row.currency}


def succeeded(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    people = {campaign.initiator_id, *backer_ids}
    notify_each(session, people, "campaign_succeeded", {"title": campaign.title}, _link(campaign))


def failed(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    people = {campaign.initiator_id, *backer_ids}
    notify_each(session, people, "campaign_failed", {"title": campaign.title}, _link(campaign))


def cancelled(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    params = {"title": campaign.title, "reason": campaign.cancel_reason or ""}
    notify_each(session, backer_ids, "campaign_cancelled", params, _link(campaign))


def paid_out(session: Session, campaign: Campaign, payout: Payout) -> None:
    """The initiator's payout statement: what came in, what went where."""
    params = {
        "title": campaign.title,
        "currency": payout.currency,
        "collected_minor": payout.collected_minor,
        "refunded_minor": payout.refunded_minor,
        "fee_rate_bps": payout.platform_fee_bps,
        "platform_fee_minor": payout.platform_fee_minor,
        "processing_fee_minor": payout.processing_fee_minor,
        "net_minor": payout.net_minor,
    }
    link = f"/campaigns/{campaign.id}/dashboard"
    notify(session, campaign.initiator_id, "campaign_paid_out", params, link)


def pledge_charged(session: Session, campaign: Campaign, row: Pledge) -> None:
    notify(session, row.backer_id, "pledge_charged", _money(campaign, row), "/pledges")


def pledge_refunded(session: Session, campaign: Campaign, row: Pledge) -> None:
    notify(session, row.backer_id, "pledge_refunded", _money(campaign, row), "/pledges")


def card_declined(session: Session, campaign: Campaign, row: Pledge) -> None:
    params = {"title": campaign.title, "days": rules.CARD_FIX_WINDOW.days}
    notify(session, row.backer_id, "card_declined", params, "/pledges")


def pledge_dropped(session: Session, campaign: Campaign, row: Pledge) -> None:
    params = {"title": campaign.title, "days": rules.CARD_FIX_WINDOW.days}
    notify(session, row.backer_id, "pledge_dropped", params, "/pledges")


def update_posted(
    session: Session, campaign: Campaign, headline: str, body: str, backer_ids: Iterable[int]
) -> None:
    params = {"title": campaign.title, "headline": headline, "body": body[:UPDATE_MAILED_CHARS]}
    notify_each(session, backer_ids, "campaign_update", params, _link(campaign))


def reward_shipped(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    params = {"title": campaign.title}
    notify_each(session, backer_ids, "reward_shipped", params, "/pledges")


def reward_problem(session: Session, campaign: Campaign, note: str) -> None:
    params = {"title": campaign.title, "note": note}
    link = f"/campaigns/{campaign.id}/dashboard"
    notify(session, campaign.initiator_id, "reward_problem", params, link)
