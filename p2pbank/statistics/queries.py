"""Reads the platform's figures from the database in a handful of aggregate queries."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.crowdfunding.models import Campaign, CampaignStatus, Payout
from p2pbank.lending.models import Instalment, Loan, LoanRequest, RequestStatus
from p2pbank.questions.queries import answer_records
from p2pbank.statistics import figures


@dataclass(frozen=True)
class Statistics:
    today: date
    currency: str
    summary: figures.BookSummary
    by_month: list[figures.MonthRow]
    defaults: list[figures.DefaultRow]
    listings_ended: int
    listings_funded: int
    campaigns_ended: int
    campaigns_succeeded: int
    raised_minor: int
    questions_answered: int = 0  # within 24 hours
    questions_counted: int = 0

    @property
    def answered_share_bps(self) -> int | None:
        return figures.share_bps(self.questions_answered, self.questions_counted)

    @property
    def funded_share_bps(self) -> int | None:
        return figures.share_bps(self.listings_funded, self.listings_ended)

    @property
    def campaign_success_bps(self) -> int | None:
        return figures.share_bps(self.campaigns_succeeded, self.campaigns_ended)


def loan_facts(session: Session, currency: str) -> list[figures.LoanFact]:
    interest = (
        select(Instalment.loan_id, func.sum(Instalment.interest_paid_minor).label("paid"))
        .group_by(Instalment.loan_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Loan.issued_on,
            Loan.grade,
            Loan.principal_minor,
            Loan.rate_bps,
            Loan.outstanding_minor,
            Loan.status,
            func.coalesce(interest.c.paid, 0),
            Loan.written_off_minor - Loan.recovered_minor,
        )
        .outerjoin(interest, interest.c.loan_id == Loan.id)
        .where(Loan.currency == currency)
    ).all()
    return [
        figures.LoanFact(
            issued, grade, int(principal), rate, int(outstanding), str(status), int(paid), int(lost)
        )
        for issued, grade, principal, rate, outstanding, status, paid, lost in rows
    ]


def statistics(session: Session, today: date, currency: str = "EUR") -> Statistics:
    """Every figure of the statistics page, for loans and campaigns in `currency`."""
    facts = loan_facts(session, currency)
    requests = dict(
        session.execute(select(LoanRequest.status, func.count()).group_by(LoanRequest.status)).all()
    )
    campaigns = dict(
        session.execute(select(Campaign.status, func.count()).group_by(Campaign.status)).all()
    )
    raised = session.scalar(
        select(func.coalesce(func.sum(Payout.collected_minor - Payout.refunded_minor), 0)).where(
            Payout.currency == currency
        )
    )
    records = answer_records(session).values()
    funded = requests.get(RequestStatus.FUNDED, 0)
    succeeded = campaigns.get(CampaignStatus.SUCCEEDED, 0)
    return Statistics(
        today=today,
        currency=currency,
        summary=figures.summary(facts),
        by_month=figures.issued_by_month(facts),
        defaults=figures.default_rates(facts, today),
        listings_ended=funded + requests.get(RequestStatus.EXPIRED, 0),
        listings_funded=funded,
        campaigns_ended=succeeded + campaigns.get(CampaignStatus.FAILED, 0),
        campaigns_succeeded=succeeded,
        raised_minor=int(raised or 0),
        questions_answered=sum(answered for answered, _counted in records),
        questions_counted=sum(counted for _answered, counted in records),
    )
