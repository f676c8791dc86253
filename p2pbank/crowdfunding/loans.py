"""Crowdlending settlement: a successful loan campaign becomes a loan, one part per backer.

Crowdfunding and lending sit side by side in the layers and do not import each other, so
the loan is issued through a `LoanIssuer` handed in from above (p2pbank.jobs, which may
import both); without one, a funded loan campaign waits in `collecting`. The issuer turns
the backers' wallet holds into a loan and its schedule in the caller's transaction
(flush only).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding.events import emit_event
from p2pbank.crowdfunding.models import Campaign, EventKind, Pledge, PledgeStatus
from p2pbank.errors import InvalidState


@dataclass(frozen=True, slots=True)
class CrowdLoanPart:
    """One backer's part: the money is still held in their wallet under `hold_id`."""

    pledge_id: int
    lender_id: int
    amount_minor: int
    hold_id: int


@dataclass(frozen=True, slots=True)
class CrowdLoanRequest:
    campaign_id: int
    borrower_id: int
    currency: str
    rate_bps: int
    term_months: int
    title: str
    parts: tuple[CrowdLoanPart, ...]

    @property
    def principal_minor(self) -> int:
        return sum(p.amount_minor for p in self.parts)


@dataclass(frozen=True, slots=True)
class IssuedLoan:
    loan_id: int
    part_ids: dict[int, int]  # pledge id -> loan part id


class LoanIssuer(Protocol):
    def __call__(self, session: Session, request: CrowdLoanRequest) -> IssuedLoan:
        """Issue the loan from the held money; flush only, raise to refuse."""
        ...


def crowd_loan_request(campaign: Campaign, pledges: Sequence[Pledge]) -> CrowdLoanRequest:
    return CrowdLoanRequest(
        campaign_id=campaign.id,
        borrower_id=campaign.initiator_id,
        currency=campaign.currency,
        rate_bps=int(campaign.loan_rate_bps or 0),
        term_months=int(campaign.loan_term_months or 0),
        title=campaign.title,
        parts=tuple(
            CrowdLoanPart(
                pledge_id=p.id,
                lender_id=p.backer_id,
                amount_minor=p.amount_minor,
                hold_id=int(p.hold_ref or 0),
            )
            for p in pledges
        ),
    )


def settle_loan_campaign(
    session: Session, campaign: Campaign, pledges: Sequence[Pledge], issuer: LoanIssuer
) -> None:
    """Issue the loan and mark every pledge collected as a loan part. Flushes only."""
    request = crowd_loan_request(campaign, pledges)
    if any(part.hold_id <= 0 for part in request.parts):
        raise InvalidState(f"campaign {campaign.id}: a loan pledge has no wallet hold")
    issued = issuer(session, request)
    campaign.loan_ref = issued.loan_id
    moment = now()
    for pledge in pledges:
        pledge.move_to(PledgeStatus.COLLECTED)
        pledge.collected_at = moment
        pledge.loan_part_ref = issued.part_ids.get(pledge.id)
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.PLEDGE_COLLECTED,
            subject_id=pledge.backer_id,
            pledge_id=pledge.id,
            amount_minor=pledge.amount_minor,
            dedup_key=str(pledge.id),
        )
    session.flush()
