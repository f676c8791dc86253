"""Holds: reserve money on an account (it stays posted but is no longer available), then
capture it into a balanced entry, release it, or let it expire. Flush-only primitives,
like the rest of the ledger's commands: the caller's commit makes them atomic.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.clock import now as clock_now
from p2pbank.errors import (
    Conflict,
    InsufficientFunds,
    InvalidState,
    NotFound,
)
from p2pbank.ledger.inputs import (
    MAX_MEMO_LENGTH,
    check_code,
    check_key,
    check_kind,
    check_money,
    check_ref_id,
    check_text,
    refuse,
)
from p2pbank.ledger.models import (
    Account,
    Hold,
    HoldStatus,
    JournalEntry,
)
from p2pbank.ledger.posting import entry_by_key, entry_legs, lock_accounts, lock_rows, post_locked
from p2pbank.money import Money
from p2pbank.uow import for_update


def _lock_hold(session: Session, hold_id: int) -> Hold:
    stmt = for_update(select(Hold).where(Hold.id == hold_id))
    hold_row = session.scalar(stmt)
    if hold_row is None:
        raise NotFound(f"no such hold: {hold_id}")
    return hold_row


def _get_hold(session: Session, hold_id: object) -> Hold:
    if type(hold_id) is not int:
        raise refuse("hold_id must be an integer", "hold_id")
    hold_row = session.get(Hold, hold_id)
    if hold_row is None:
        raise NotFound(f"no such hold: {hold_id}")
    return hold_row


# --- holds ----------------------------------------------------------------------------------


def hold(
    session: Session,
    *,
    account_code: str,
    amount: Money,
    idempotency_key: str,
    expires_at: datetime | None = None,
    ref_type: str | None = None,
    ref_id: int | None = None,
    memo: str = "",
) -> Hold:
    """Reserve `amount` on the account: available drops, posted does not. Resolve it with
    exactly one of capture_hold, release_hold or expiry (expire_holds). Flushes only."""
    money = check_money(amount)
    key = check_key(idempotency_key)
    ref_type = check_text(ref_type, "ref_type", 40, optional=True)
    ref_id = check_ref_id(ref_id)
    memo = check_text(memo, "memo", MAX_MEMO_LENGTH, optional=False) or ""
    if expires_at is not None and (
        not isinstance(expires_at, datetime) or expires_at.tzinfo is None
    ):
        raise refuse("expires_at must be a timezone-aware datetime", "expires_at")
    account = lock_accounts(session, [check_code(account_code)])[account_code]

    existing = session.scalar(select(Hold).where(Hold.idempotency_key == key))
    if existing is not None:
        same = (
            existing.account_id == account.id
            and existing.amount_minor == money.minor
            and existing.currency == money.currency
            and existing.expires_at == expires_at
            and existing.ref_type == ref_type
            and existing.ref_id == ref_id
            and existing.memo == memo
        )
        if not same:
            raise Conflict(f"idempotency key {key!r} was used for a different hold")
        return existing

    if account.is_closed:
        raise InvalidState(f"account {account_code} is closed")
    if account.currency != money.currency:
        raise refuse(
            f"account {account_code} holds {account.currency}, not {money.currency}", "currency"
        )
    moment = clock_now()
    if expires_at is not None and expires_at <= moment:
        raise refuse("a hold must expire in the future", "expires_at")
    if account.no_negative and account.available_minor < money.minor:
        raise InsufficientFunds(f"account {account_code} has too little available money")

    account.held_minor += money.minor
    row = Hold(
        account_id=account.id,
        amount_minor=money.minor,
        currency=money.currency,
        status=HoldStatus.PENDING.value,
        idempotency_key=key,
        expires_at=expires_at,
        ref_type=ref_type,
        ref_id=ref_id,
        memo=memo,
        created_at=moment,
    )
    session.add(row)
    session.flush()
    return row


def capture_hold(
    session: Session,
    hold_id: int,
    *,
    to_code: str,
    amount: Money | None = None,
    idempotency_key: str,
    kind: str,
    memo: str = "",
) -> JournalEntry:
    """Capture all of a pending hold (amount None) or part of it; the rest returns to the
    available balance. Posts one entry debiting the held account and crediting `to_code`.
    A hold resolves once: capturing a resolved hold raises InvalidState, except a replay
    with the same key and content, which returns the original entry. Flushes only."""
    key = check_key(idempotency_key)
    kind = check_kind(kind)
    memo = check_text(memo, "memo", MAX_MEMO_LENGTH, optional=False) or ""
    check_code(to_code)
    held = _get_hold(session, hold_id)
    source = session.get(Account, held.account_id)
    assert source is not None
    if to_code == source.code:
        raise refuse("a hold cannot be captured into its own account", "to_code")
    accounts = lock_rows(session, [source.code, to_code])
    held = _lock_hold(session, held.id)

    if amount is None:
        minor = held.amount_minor
    else:
        money = check_money(amount)
        if money.currency != held.currency:
            raise refuse(f"the hold is in {held.currency}, not {money.currency}", "amount")
        minor = money.minor
        if minor > held.amount_minor:
            raise refuse("a capture cannot exceed the amount held", "amount")

    legs = [(source.code, -minor), (to_code, minor)]
    if held.status == HoldStatus.CAPTURED and held.resolution_key == key:
        entry = session.get(JournalEntry, held.capture_entry_id)
        assert entry is not None
        if sorted(entry_legs(session, entry)) != sorted(legs) or entry.kind != kind:
            raise Conflict(f"idempotency key {key!r} was used for a different capture")
        return entry
    if held.status != HoldStatus.PENDING:
        raise InvalidState(f"hold {held.id} is already {held.status}")
    if held.expires_at is not None and clock_now() >= held.expires_at:
        raise InvalidState(f"hold {held.id} has expired")
    if entry_by_key(session, key) is not None:
        raise Conflict(f"idempotency key {key!r} was used for a different entry")

    entry = post_locked(
        session,
        legs=legs,
        currency=held.currency,
        kind=kind,
        key=key,
        ref_type=held.ref_type,
        ref_id=held.ref_id,
        gateway_ref=None,
        memo=memo,
        accounts=accounts,
        release={source.id: held.amount_minor},
    )
    held.move_to(HoldStatus.CAPTURED)
    held.captured_minor = minor
    held.capture_entry_id = entry.id
    held.resolution_key = key
    held.resolved_at = entry.created_at
    session.flush()
    return entry


def release_hold(session: Session, hold_id: int, *, idempotency_key: str) -> Hold:
    """Give a pending hold back to the available balance. A replay with the same key
    returns the hold; any other second resolution raises InvalidState. Flushes only."""
    key = check_key(idempotency_key)
    held = _get_hold(session, hold_id)
    source = session.get(Account, held.account_id)
    assert source is not None
    account = lock_accounts(session, [source.code])[source.code]
    held = _lock_hold(session, held.id)
    if held.status == HoldStatus.RELEASED and held.resolution_key == key:
        return held
    if held.status != HoldStatus.PENDING:
        raise InvalidState(f"hold {held.id} is already {held.status}")
    if session.scalar(select(Hold.id).where(Hold.resolution_key == key)) is not None:
        raise Conflict(f"idempotency key {key!r} was used for another hold")
    held.move_to(HoldStatus.RELEASED)
    held.resolution_key = key
    held.resolved_at = clock_now()
    account.held_minor -= held.amount_minor
    session.flush()
    return held


def expire_holds(session: Session, now: datetime) -> int:
    """Release every pending hold whose deadline is at or before `now`; returns how many.
    Used by the scheduled job. Flushes only."""
    if not isinstance(now, datetime) or now.tzinfo is None:
        raise refuse("now must be a timezone-aware datetime", "now")
    due = select(Hold.id, Hold.account_id).where(
        Hold.status == HoldStatus.PENDING.value,
        Hold.expires_at.is_not(None),
        Hold.expires_at <= now,
    )
    rows = session.execute(due).all()
    if not rows:
        return 0
    account_ids = sorted({account_id for _, account_id in rows})
    codes = session.scalars(select(Account.code).where(Account.id.in_(account_ids))).all()
    accounts = {a.id: a for a in lock_accounts(session, codes).values()}
    locked = session.scalars(
        for_update(
            select(Hold).where(Hold.id.in_([hold_id for hold_id, _ in rows])).order_by(Hold.id)
        )
    ).all()
    count = 0
    for held in locked:
        if held.status != HoldStatus.PENDING:
            continue  # resolved by someone else meanwhile
        held.move_to(HoldStatus.EXPIRED)
        held.resolved_at = now
        accounts[held.account_id].held_minor -= held.amount_minor
        count += 1
    session.flush()
    return count


def holds_due(session: Session, now: datetime) -> list[int]:
    """Pending holds whose deadline is at or before `now` (one unit each: `expire_hold`)."""
    return list(
        session.scalars(
            select(Hold.id)
            .where(
                Hold.status == HoldStatus.PENDING.value,
                Hold.expires_at.is_not(None),
                Hold.expires_at <= now,
            )
            .order_by(Hold.id)
        )
    )


def expire_hold(session: Session, hold_id: int, now: datetime) -> int:
    """Release one lapsed hold (account first, then the hold, as every hold command locks);
    1 when it expired, 0 when it was resolved meanwhile or is not due. Flushes only."""
    row = session.get(Hold, hold_id)
    if row is None:
        return 0
    account_code = session.scalar(select(Account.code).where(Account.id == row.account_id))
    account = lock_accounts(session, [account_code]).get(account_code)
    held = session.scalar(
        for_update(
            select(Hold).where(
                Hold.id == hold_id,
                Hold.status == HoldStatus.PENDING.value,
                Hold.expires_at.is_not(None),
                Hold.expires_at <= now,
            )
        )
    )
    if account is None or held is None:
        return 0
    held.move_to(HoldStatus.EXPIRED)
    held.resolved_at = now
    account.held_minor -= held.amount_minor
    session.flush()
    return 1
