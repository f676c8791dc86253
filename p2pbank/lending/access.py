"""What every lending command shares: load the acting user, check their role, check the
idempotency key, and turn field problems into one refusal.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.errors import (
    Forbidden,
    InsufficientFunds,
    NotFound,
    ValidationFailed,
)
from p2pbank.identity.models import User
from p2pbank.lending import servicing
from p2pbank.lending.rules import euros
from p2pbank.permissions import Permission, require
from p2pbank.uow import for_update


def refuse_fields(errors: dict[str, list[str]]) -> None:
    """Raise the collected field problems, if any (a form reports all of them at once)."""
    if errors:
        raise ValidationFailed.of(errors)


def checked_key(idempotency_key: str | None) -> str:
    if idempotency_key is None:
        return uuid.uuid4().hex
    key = idempotency_key.strip()
    if not 1 <= len(key) <= 100:
        raise ValidationFailed(
            "The idempotency key must be 1 to 100 characters.",
            field_errors={"idempotency_key": ["Must be 1 to 100 characters."]},
        )
    return key


def load_user(session: Session, user_id: int, *, lock: bool = False) -> User:
    stmt = select(User).where(User.id == user_id)
    if lock:
        stmt = for_update(stmt)
    user = session.scalar(stmt)
    if user is None:
        raise NotFound("No such user.")
    return user


def require_borrower(user: User) -> None:
    require(
        user.role_names,
        Permission.BORROW,
        "Only members with the borrower role can ask for a loan.",
    )
    if not user.kyc_verified:
        raise Forbidden("Your identity check (KYC) must be verified before you can borrow.")


def require_lender(user: User) -> None:
    require(user.role_names, Permission.LEND, "Only members with the lender role can lend.")
    if not user.kyc_verified:
        raise Forbidden("Your identity check (KYC) must be verified before you can lend.")


def need_funds(session: Session, borrower_id: int, amount_minor: int) -> None:
    have = servicing.available(session, borrower_id)
    if have < amount_minor:
        raise InsufficientFunds(
            f"Your wallet has {euros(max(have, 0))} available; {euros(amount_minor)} is "
            "needed. Add money first."
        )
