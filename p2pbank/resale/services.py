"""Offering, cancelling and buying loan parts, and auto-invest orders opting in; each a
command in its own transaction (p2pbank.uow). Lock order: see settle.py."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import Conflict, Forbidden, InvalidState, NotFound, ValidationFailed
from p2pbank.identity.models import User
from p2pbank.lending import funding, servicing
from p2pbank.lending.models import LenderOrder, LoanPart, OrderStatus
from p2pbank.permissions import Permission, require
from p2pbank.resale import auto, pricing, rules, settle
from p2pbank.resale.models import OfferStatus, ResaleOffer, ResaleOrderOption, ResaleSale
from p2pbank.uow import command


def _checked_key(idempotency_key: str | None) -> str:
    """The caller's idempotency key, trimmed and of a sane length; a fresh one if none."""
    if idempotency_key is None:
        return uuid.uuid4().hex
    key = idempotency_key.strip()
    if not 1 <= len(key) <= 100:
        message = "The idempotency key must be 1 to 100 characters."
        raise ValidationFailed(message, field_errors={"idempotency_key": [message]})
    return key


def _lender(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    require(
        user.role_names,
        Permission.LEND,
        "Only members with the lender role buy and sell loan parts.",
    )
    if not user.kyc_verified:
        raise Forbidden("Your identity check (KYC) must be verified first.")
    return user


def _check_premium(premium_bps: object) -> int:
    if not isinstance(premium_bps, int) or isinstance(premium_bps, bool):
        raise ValidationFailed("Give the price as a percent.", field_errors={"premium": ["?"]})
    problem = rules.premium_problem(premium_bps)
    if problem:
        raise ValidationFailed(problem, field_errors={"premium": [problem]})
    return premium_bps


def offer_part(
    session: Session,
    seller_id: int,
    part_id: int,
    *,
    premium_bps: int,
    idempotency_key: str | None = None,
) -> ResaleOffer:
    """Put a whole part up for sale at a premium or discount on its principal. Orders that
    opted in to the secondary market may buy it at once, in this same command."""
    with command(session):
        now = clock.now()
        _lender(session, seller_id)
        premium = _check_premium(premium_bps)
        key = _checked_key(idempotency_key)
        part = session.get(LoanPart, part_id)
        if part is None or part.lender_id != seller_id:
            raise NotFound("No such loan part.")
        existing = session.scalar(
            select(ResaleOffer).where(
                ResaleOffer.seller_id == seller_id, ResaleOffer.idempotency_key == key
            )
        )
        if existing is not None:
            if (existing.part_id, existing.premium_bps) != (part_id, premium):
                raise Conflict("This idempotency key was used for another offer.")
            return existing
        loan = servicing.lock_loan(session, part.loan_id)
        assert loan is not None
        session.refresh(part)
        problem = rules.listing_problem(loan.status, part.outstanding_minor)
        if problem is None and part.lender_id != seller_id:
            problem = "You no longer own this part."
        if problem is not None:
            raise InvalidState(problem)
        if _open_offer(session, part_id) is not None:
            raise Conflict("This part is already for sale; cancel that offer to change it.")
        offer = ResaleOffer(
            part_id=part.id,
            loan_id=loan.id,
            seller_id=seller_id,
            grade=loan.grade,
            rate_bps=part.rate_bps,
            currency=loan.currency,
            premium_bps=premium,
            idempotency_key=key,
            created_at=now,
        )
        session.add(offer)
        session.flush()
        auto.offer_to_orders(session, offer, loan, part, now=now)
    return offer


def _open_offer(session: Session, part_id: int) -> ResaleOffer | None:
    return session.scalar(
        select(ResaleOffer).where(
            ResaleOffer.part_id == part_id, ResaleOffer.status == OfferStatus.LISTED
        )
    )


def cancel_offer(session: Session, seller_id: int, offer_id: int) -> ResaleOffer:
    """Take a part off the market; cancelling twice is harmless, a sold part stays sold."""
    with command(session):
        offer = settle.lock_offer(session, offer_id)
        if offer.seller_id != seller_id:
            raise NotFound("No such offer.")
        if offer.status == OfferStatus.CANCELLED:
            return offer
        if offer.status == OfferStatus.SOLD:
            raise InvalidState("This part is sold already.")
        settle.close_offer(offer, OfferStatus.CANCELLED, "Cancelled by the seller.", clock.now())
    return offer


def buy(
    session: Session,
    buyer_id: int,
    offer_id: int,
    *,
    expected_total_minor: int,
    accept_late: bool = False,
    idempotency_key: str,
) -> ResaleSale:
    """Buy a part at the price shown. The same key again returns the same sale; a second
    buyer of a sold part is refused (the offer row is locked, and a sale's offer is unique)."""
    with command(session):
        now = clock.now()
        key = _checked_key(idempotency_key)
        done = session.scalar(
            select(ResaleSale).where(
                ResaleSale.buyer_id == buyer_id, ResaleSale.idempotency_key == key
            )
        )
        if done is not None:
            if done.offer_id != offer_id:
                raise Conflict("This idempotency key was used to buy another part.")
            return done
        _lender(session, buyer_id)
        offer = settle.lock_offer(session, offer_id)
        loan, part = settle.lock_loan_and_part(session, offer)
        settle.refuse_self_dealing(offer, loan, buyer_id)
        settle.still_sellable(offer, loan, part)
        state = pricing.part_state(loan, part, servicing.instalments(session, loan), now.date())
        quote = pricing.quote_for(state, offer.premium_bps)
        settle.check_buyer_terms(quote, state, expected_total_minor, accept_late)
        sale = settle.sell(
            session,
            offer,
            loan,
            part,
            settle.Buyer(buyer_id),
            quote=quote,
            days_past_due=state.days_past_due,
            key=key,
            now=now,
        )
    return sale


def set_auto_resale(
    session: Session, lender_id: int, order_id: int, enabled: bool
) -> ResaleOrderOption:
    """Let an auto-invest order buy parts on the secondary market too (or stop it). When
    switched on, the order looks at the parts on sale right away."""
    with command(session):
        now = clock.now()
        locked = funding.lock_orders(session, [order_id])
        if not locked or locked[0].lender_id != lender_id:
            raise NotFound("No such order.")
        order = locked[0]
        if order.status == OrderStatus.CANCELLED:
            raise InvalidState("A cancelled order buys nothing.")
        option = session.get(ResaleOrderOption, order_id)
        if option is None:
            option = ResaleOrderOption(order_id=order_id, lender_id=lender_id)
            session.add(option)
        option.buys_resale = bool(enabled)
        option.updated_at = now
        session.flush()
    if enabled:
        sweep_for_orders(session, [order_id])
    return option


def sweep_for_orders(session: Session, order_ids: list[int] | None = None) -> int:
    """Offer the open parts to the orders that opted in (all, or the ones named); one
    command. Returns how many parts were bought."""
    with command(session):
        bought = auto.sweep(session, order_ids, now=clock.now())
    return bought


def close_stale_offers(session: Session, now: datetime | None = None) -> int:
    """Close offers whose loan defaulted or was repaid since they were made; one command."""
    with command(session):
        closed = auto.close_stale(session, now or clock.now())
    return closed


def run_due_resale(session: Session, now: datetime | None = None) -> dict[str, int]:
    """The scheduled work of the secondary market: stale offers closed, opted-in orders
    offered the parts on sale."""
    return {
        "resale_offers_closed": close_stale_offers(session, now),
        "resale_auto_bought": sweep_for_orders(session),
    }


def order_buys_resale(session: Session, order: LenderOrder) -> bool:
    option = session.get(ResaleOrderOption, order.id)
    return bool(option and option.buys_resale)
