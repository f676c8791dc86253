"""The one way crowdfunding tells the trust engine what happened: `emit_event`.

Events are append-only CampaignEvent rows written in the same transaction as the change
they describe. The trust domain reads them (by `subject_id` and `kind`); this module does
not know how they are scored.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding.models import Campaign, CampaignEvent, EventKind
from p2pbank.trust import services as trust_services


def emit_event(
    session: Session,
    *,
    campaign_id: int,
    kind: EventKind,
    subject_id: int,
    dedup_key: str,
    actor_id: int | None = None,
    pledge_id: int | None = None,
    tier_id: int | None = None,
    amount_minor: int | None = None,
    detail: str = "",
) -> CampaignEvent:
    """Record one fact once: a second call with the same `dedup_key` returns the first
    row. Flushes only; the caller's commit makes it part of the change it describes."""
    key = f"{kind.value}:{dedup_key}"
    existing = session.scalar(select(CampaignEvent).where(CampaignEvent.dedup_key == key))
    if existing is not None:
        return existing
    event = CampaignEvent(
        campaign_id=campaign_id,
        kind=kind.value,
        subject_id=subject_id,
        actor_id=actor_id,
        pledge_id=pledge_id,
        tier_id=tier_id,
        amount_minor=amount_minor,
        detail=detail[:300],
        dedup_key=key,
    )
    session.add(event)
    session.flush()
    return event


def open_ratings(session: Session, campaign: Campaign, backer_ids: Iterable[int]) -> None:
    """The campaign is done for these backers (settled without a reward, or their reward
    answered for or overdue): the initiator and each may now rate each other (the
    trust rules). Crowd loans are rated as loans, when the loan ends. Flushes only."""
    if campaign.is_loan:
        return
    trust_services.record_completed_transaction(
        session,
        ref_type="campaign",
        ref_id=campaign.id,
        principal_id=campaign.initiator_id,
        counterparty_ids=set(backer_ids),
        completed_at=now(),
    )
