"""Crowdfunding's scheduled work, run by the jobs: close campaigns past their deadline,
collect and drop card pledges, pay out, expire card setups. Each campaign is its own
command, so one failure never stops the others.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.collection import (
    collect_card_pledge,
    drop_unfixed_pledges,
    expire_card_setups,
    finish_collecting,
)
from p2pbank.crowdfunding.loans import LoanIssuer
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    Pledge,
    PledgeStatus,
)
from p2pbank.crowdfunding.settlement import close_campaign
from p2pbank.payments.gateway import (
    PaymentGateway,
)


@dataclass
class SettlementReport:
    closed: list[int] = field(default_factory=list)
    charged: int = 0
    declined: int = 0
    dropped: int = 0
    finished: list[int] = field(default_factory=list)
    expired_setups: int = 0
    detached: int = 0
    overdue: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"crowdfunding: closed {len(self.closed)} campaign(s), charged {self.charged} "
            f"card(s), {self.declined} declined, dropped {self.dropped}, finished "
            f"{len(self.finished)}, released {self.expired_setups} unsaved card pledge(s), "
            f"detached {self.detached} card(s), {self.overdue} overdue reward(s)",
            *self.problems,
        ]


def run_due(
    session: Session,
    *,
    gateway: PaymentGateway | None,
    loan_issuer: LoanIssuer | None = None,
) -> SettlementReport:
    """The scheduled step (the scheduler runs the same pieces, one task per campaign or
    card): decide campaigns whose deadline came, charge saved cards, drop cards not fixed
    in 7 days, finish what is complete, detach cards that will not be charged, flag late
    rewards. Each piece is its own command; a failure in one campaign is reported and does
    not stop the others."""
    from p2pbank.crowdfunding.cards import detach_let_go_cards
    from p2pbank.crowdfunding.delivery import flag_overdue_deliveries

    report = SettlementReport()
    report.expired_setups = expire_card_setups(session)
    for campaign_id in deadlines_due(session):
        try:
            close_at_deadline(session, campaign_id, loan_issuer=loan_issuer)
            report.closed.append(campaign_id)
        except Exception as exc:  # reported; the other campaigns still settle
            report.problems.append(f"campaign {campaign_id}: {exc}")
    if gateway is not None:
        for pledge_id in cards_to_charge(session):
            try:
                counts = charge_card(session, pledge_id, gateway=gateway)
            except Exception as exc:  # e.g. the gateway is down: retried next run
                report.problems.append(f"pledge {pledge_id}: {exc}")
                continue
            report.charged += counts.get("charged", 0)
            report.declined += counts.get("declined", 0)
    report.dropped = drop_unfixed_pledges(session)
    for campaign_id in campaigns_collecting(session):
        try:
            counts = finish_campaign(session, campaign_id, loan_issuer=loan_issuer)
        except Exception as exc:
            report.problems.append(f"campaign {campaign_id}: {exc}")
            continue
        if counts.get("finished"):
            report.finished.append(campaign_id)
        elif counts.get("waits_for_issuer"):
            report.problems.append(f"campaign {campaign_id}: funded; waits for loan issuing")
    if gateway is not None:
        detached, left = detach_let_go_cards(session, gateway=gateway)
        report.detached = detached
        if left:
            report.problems.append(f"{left} saved card(s) wait to be detached by the gateway")
    report.overdue = flag_overdue_deliveries(session)
    return report


def deadlines_due(session: Session) -> list[int]:
    """Live campaigns whose deadline has come (one unit each: `close_at_deadline`)."""
    return list(
        session.scalars(
            select(Campaign.id)
            .where(Campaign.status == CampaignStatus.LIVE, Campaign.deadline_at <= now())
            .order_by(Campaign.deadline_at, Campaign.id)
        )
    )


def close_at_deadline(
    session: Session, campaign_id: int, *, loan_issuer: LoanIssuer | None = None
) -> dict[str, int]:
    """Decide one campaign at its deadline; a no-op once decided (the state machine)."""
    campaign = session.get(Campaign, campaign_id, populate_existing=True)
    if campaign is None or campaign.status != CampaignStatus.LIVE:
        return {}
    close_campaign(session, campaign_id, loan_issuer=loan_issuer)
    return {"closed": 1}


def cards_to_charge(session: Session) -> list[int]:
    """Pending card pledges of collecting campaigns (one unit each: `charge_card`)."""
    return list(
        session.scalars(
            select(Pledge.id)
            .join(Campaign, Campaign.id == Pledge.campaign_id)
            .where(
                Campaign.status == CampaignStatus.COLLECTING,
                Pledge.method == rules.PayMethod.CARD,
                Pledge.status == PledgeStatus.PENDING,
            )
            .order_by(Pledge.id)
        )
    )


def charge_card(session: Session, pledge_id: int, *, gateway: PaymentGateway) -> dict[str, int]:
    """Charge one pending card pledge; a pledge no longer pending is left alone, and the
    gateway's idempotency key (per attempt) never charges one attempt twice."""
    row = session.get(Pledge, pledge_id, populate_existing=True)
    campaign = session.get(Campaign, row.campaign_id) if row is not None else None
    if row is None or row.status != PledgeStatus.PENDING or campaign is None:
        return {}
    if campaign.status != CampaignStatus.COLLECTING:
        return {}
    row = collect_card_pledge(session, pledge_id, gateway=gateway)
    return {"charged": 1} if row.status == PledgeStatus.COLLECTED else {"declined": 1}


def campaigns_collecting(session: Session) -> list[int]:
    """Campaigns collecting their pledges (one unit each: `finish_campaign`)."""
    return list(
        session.scalars(
            select(Campaign.id)
            .where(Campaign.status == CampaignStatus.COLLECTING)
            .order_by(Campaign.id)
        )
    )


def finish_campaign(
    session: Session, campaign_id: int, *, loan_issuer: LoanIssuer | None = None
) -> dict[str, int]:
    """Pay out (or fail) one collecting campaign when nothing is outstanding."""
    campaign = finish_collecting(session, campaign_id, loan_issuer=loan_issuer)
    if campaign.status != CampaignStatus.COLLECTING:
        return {"finished": 1}
    if campaign.is_loan and loan_issuer is None:
        return {"waits_for_issuer": 1}
    return {}


def run_due_work(
    session: Session,
    now_at: datetime,
    *,
    gateway: PaymentGateway | None = None,
    loan_issuer: LoanIssuer | None = None,
) -> dict[str, int]:
    """`run_due` at `now_at`, as p2pbank.jobs calls it: counts by what was done. Without a
    gateway, the one the environment configures (test mode unless a Stripe key is set)."""
    import os

    from p2pbank import clock
    from p2pbank.payments.settings import PaymentSettings, make_gateway

    if gateway is None:
        gateway = make_gateway(session, PaymentSettings.from_mapping(os.environ))
    if now() == now_at:
        report = run_due(session, gateway=gateway, loan_issuer=loan_issuer)
    else:
        with clock.frozen_at(now_at):
            report = run_due(session, gateway=gateway, loan_issuer=loan_issuer)
    return {
        "crowdfunding.closed": len(report.closed),
        "crowdfunding.cards_charged": report.charged,
        "crowdfunding.cards_declined": report.declined,
        "crowdfunding.pledges_dropped": report.dropped,
        "crowdfunding.finished": len(report.finished),
        "crowdfunding.card_setups_expired": report.expired_setups,
        "crowdfunding.cards_detached": report.detached,
        "crowdfunding.rewards_overdue": report.overdue,
        "crowdfunding.problems": len(report.problems),
    }
