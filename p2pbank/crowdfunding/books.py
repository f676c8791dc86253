"""The ledger accounts crowdfunding posts to (card clearing and card fees per currency,
the platform's fee income) and the pledge look-ups settlement sums over.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.crowdfunding.models import (
    Pledge,
    PledgeStatus,
)
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType
from p2pbank.payments.services import GATEWAY_FEES
from p2pbank.uow import for_update

# What the card processor keeps: the payments domain's expense account, recovered from the
# escrow at the payout (so the initiator bears the processing fees of their campaign).
CARD_FEES = GATEWAY_FEES
ENTRY_REF = "crowdfunding_pledge"


def card_fees_code(currency: str) -> str:
    return CARD_FEES if currency == "EUR" else f"{CARD_FEES}:{currency}"


def ensure_card_fees_account(session: Session, currency: str) -> None:
    ledger.ensure_account(
        session, card_fees_code(currency), type=AccountType.EXPENSE, currency=currency
    )


def clearing_code(currency: str) -> str:
    base = ledger.PLATFORM_GATEWAY_CLEARING
    return base if currency == "EUR" else f"{base}:{currency}"


def ensure_clearing(session: Session, currency: str) -> None:
    if currency == "EUR":
        ledger.ensure_platform_account(session, ledger.PLATFORM_GATEWAY_CLEARING, currency)
    else:
        ledger.ensure_account(
            session, clearing_code(currency), type=AccountType.ASSET, currency=currency
        )


def ensure_fees_income(session: Session, currency: str) -> str:
    if currency == "EUR":
        ledger.ensure_platform_account(session, ledger.PLATFORM_FEES, currency)
        return ledger.PLATFORM_FEES
    code = f"{ledger.PLATFORM_FEES}:{currency}"
    ledger.ensure_account(session, code, type=AccountType.INCOME, currency=currency)
    return code


def pledges_in(session: Session, campaign_id: int, *statuses: PledgeStatus) -> list[Pledge]:
    return list(
        session.scalars(
            for_update(
                select(Pledge)
                .where(Pledge.campaign_id == campaign_id, Pledge.status.in_(statuses))
                .order_by(Pledge.id)
            )
        )
    )


def total_of(pledges: list[Pledge]) -> int:
    return sum(p.amount_minor for p in pledges)
