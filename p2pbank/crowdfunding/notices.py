"""What crowdfunding tells people, in one place (flush-only, in the command's transaction).

Several of these events already write their own, longer mail (kernel.mail, in English);
their notifications are in-app only (`mail=False`) so nobody gets the same news twice,
and those mails go only to people who keep the kind on (`wanting_mail`)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy.orm import Session

from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.models import Campaign, Pledge
from p2pbank.identity.models import User
from p2pbank.notifications.services import notify, notify_each, wants_email


def wanting_mail(session: Session, people: Sequence[User], kind: str) -> list[User]:
    """The people who keep this kind's mail on: the commands' own mails follow the same
    notification settings as every other mail."""
    return [person for person in people if wants_email(session, person.id, kind)]


def _link(campaign: Campaign) -> str:
    return f"/campaigns/{campaign.id}"


def succeeded(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    params = {"title": campaign.title}
    notify(session, campaign.initiator_id, "campaign_succeeded", params, _link(campaign))
    notify_each(session, backer_ids, "campaign_succeeded", params, _link(campaign), mail=False)


def failed(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    people = {campaign.initiator_id, *backer_ids}
    notify_each(
        session, people, "campaign_failed", {"title": campaign.title}, _link(campaign), mail=False
    )


def pledge_charged(session: Session, campaign: Campaign, row: Pledge) -> None:
    params = {"title": campaign.title, "amount_minor": row.amount_minor, "currency": row.currency}
    notify(session, row.backer_id, "pledge_charged", params, "/pledges")


def card_declined(session: Session, campaign: Campaign, row: Pledge) -> None:
    params = {"title": campaign.title, "days": rules.CARD_FIX_WINDOW.days}
    notify(session, row.backer_id, "card_declined", params, "/pledges", mail=False)


def update_posted(
    session: Session, campaign: Campaign, headline: str, backer_ids: Iterable[int]
) -> None:
    params = {"title": campaign.title, "headline": headline}
    notify_each(session, backer_ids, "campaign_update", params, _link(campaign), mail=False)


def reward_shipped(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    params = {"title": campaign.title}
    notify_each(session, backer_ids, "reward_shipped", params, "/pledges", mail=False)
