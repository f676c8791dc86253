"""Selling one part: the one balanced ledger entry and the change of owner; flush-only.
The command in services.py that calls these commits once.

The entry, for a buyer paying T (outstanding principal P, premium, accrued interest) and
a fee F kept by the platform::

    buyer's wallet   -T        seller's wallet  +(T - F)      platform:fees  +F
    seller's lent    -P        buyer's lent     +P

Every line is in cents and the entry sums to zero. The principal moves between the two
`lending:lent` accounts, so the books still say who has how much out with borrowers, and
later repayments (which pay whoever owns the part when they arrive) go to the buyer.

Locks, in this order everywhere: the offer row, the loan, lender orders (ascending id),
then every ledger account of the sale at once (ascending id).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.ledger import services as ledger
from p2pbank.lending import accounts, funding, servicing
from p2pbank.lending.models import LenderOrder, Loan, LoanPart
from p2pbank.resale import pricing, rules
from p2pbank.resale.models import OfferStatus, ResaleOffer, ResaleSale
from p2pbank.uow import for_update


def lock_offer(session: Session, offer_id: int) -> ResaleOffer:
    offer = session.scalar(for_update(select(ResaleOffer).where(ResaleOffer.id == offer_id)))
    if offer is None:
        raise NotFound("No such offer.")
    return offer


def lock_loan_and_part(session: Session, offer: ResaleOffer) -> tuple[Loan, LoanPart]:
    loan = servicing.lock_loan(session, offer.loan_id)
    part = session.scalar(
        select(LoanPart)
        .where(LoanPart.id == offer.part_id)
        .execution_options(populate_existing=True)
    )
    assert loan is not None and part is not None
    return loan, part


def close_offer(offer: ResaleOffer, status: OfferStatus, reason: str, now: datetime) -> None:
    offer.move_to(status)
    offer.closed_at = now
    offer.close_reason = reason


def stale_reason(offer: ResaleOffer, loan: Loan, part: LoanPart) -> str | None:
    """Why an open offer can no longer be sold: its loan ended (defaulted or repaid) or
    the part changed hands. The scheduled sweep closes such offers with this reason."""
    problem = rules.listing_problem(loan.status, part.outstanding_minor)
    if problem is None and part.lender_id != offer.seller_id:
        problem = "The seller no longer owns this part."
    return problem


def still_sellable(offer: ResaleOffer, loan: Loan, part: LoanPart) -> None:
    if offer.status != OfferStatus.LISTED:
        raise InvalidState("This part is no longer for sale.")
    problem = stale_reason(offer, loan, part)
    if problem is not None:
        raise InvalidState(problem)


@dataclass(frozen=True)
class Buyer:
    user_id: int
    order: LenderOrder | None = None


def refuse_self_dealing(offer: ResaleOffer, loan: Loan, buyer_id: int) -> None:
    if buyer_id == offer.seller_id:
        raise Forbidden("You cannot buy your own loan part.")
    if buyer_id == loan.borrower_id:
        raise Forbidden("A borrower cannot buy a part of their own loan.")


def _lock_accounts(session: Session, seller_id: int, buyer_id: int) -> None:
    accounts.ensure_fees(session)
    codes = [accounts.FEES]
    for user_id in (seller_id, buyer_id):
        accounts.ensure_lender_accounts(session, user_id)
        codes += [accounts.wallet_code(user_id), accounts.lent_code(user_id)]
    accounts.lock_accounts(session, codes)


def sell(
    session: Session,
    offer: ResaleOffer,
    loan: Loan,
    part: LoanPart,
    buyer: Buyer,
    *,
    quote: rules.Quote,
    days_past_due: int,
    key: str,
    now: datetime,
) -> ResaleSale:
    """Post the sale entry, move the part to the buyer and record the sale."""
    _lock_accounts(session, offer.seller_id, buyer.user_id)
    if buyer.order is not None:
        funding.release_order_hold(session, buyer.order)
    legs = [
        (accounts.wallet_code(buyer.user_id), -quote.total_minor),
        (accounts.wallet_code(offer.seller_id), quote.seller_gets_minor),
        (accounts.FEES, quote.fee_minor),
        (accounts.lent_code(offer.seller_id), -quote.outstanding_minor),
        (accounts.lent_code(buyer.user_id), quote.outstanding_minor),
    ]
    entry = ledger.post_entry(
        session,
        postings=[(code, amount) for code, amount in legs if amount != 0],
        currency=offer.currency,
        kind="resale",
        idempotency_key=f"resale:offer:{offer.id}",
        ref_type="resale_offer",
        ref_id=offer.id,
        memo=f"Loan part {part.id} of loan {loan.id} sold on the secondary market",
    )
    if buyer.order is not None:
        buyer.order.remaining_minor -= quote.total_minor
        funding.hold_order_remaining(session, buyer.order)
    part.lender_id = buyer.user_id
    part.order_id = buyer.order.id if buyer.order is not None else None
    close_offer(offer, OfferStatus.SOLD, "", now)
    sale = ResaleSale(
        offer_id=offer.id,
        part_id=part.id,
        seller_id=offer.seller_id,
        buyer_id=buyer.user_id,
        order_id=buyer.order.id if buyer.order is not None else None,
        currency=offer.currency,
        outstanding_minor=quote.outstanding_minor,
        premium_minor=quote.premium_minor,
        accrued_minor=quote.accrued_minor,
        total_minor=quote.total_minor,
        fee_minor=quote.fee_minor,
        days_past_due=days_past_due,
        entry_id=entry.id,
        idempotency_key=key,
        sold_at=now,
    )
    session.add(sale)
    session.flush()
    return sale


def check_buyer_terms(
    quote: rules.Quote, state: pricing.PartState, expected_total_minor: int, accept_late: bool
) -> None:
    """The buyer pays exactly what they were shown, and a late part only knowingly."""
    if expected_total_minor != quote.total_minor:
        raise Conflict(
            "The price changed since it was shown (a payment arrived or a day passed); "
            "look at the new price and confirm again."
        )
    if state.days_past_due > 0 and not accept_late:
        message = "This part is late; confirm that you buy it knowing that."
        raise ValidationFailed(message, field_errors={"accept_late": [message]})
