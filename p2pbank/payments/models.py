"""Payments: deposits (Payment), refunds, withdrawals (Payout), payout accounts, the
gateway events we have processed, and the embedded test-mode gateway's own state.

Every amount is `*_minor` (integer minor units) next to its `currency`. Each row's
lifecycle is an explicit transition table; `move_to` raises InvalidState otherwise.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Boolean, CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.errors import InvalidState


def _sql_in(values) -> str:
    return ",".join(f"'{v}'" for v in values)


class PaymentStatus(StrEnum):
    PENDING = "pending"  # created; the payer has not completed it yet
    NEEDS_ACTION = "needs_action"  # the card asks for authentication (3-D Secure)
    FAILED = "failed"  # the last attempt failed; the payer may try another card
    SUCCEEDED = "succeeded"  # the gateway confirmed the money; the wallet is credited
    CANCELED = "canceled"


PAYMENT_TRANSITIONS: dict[PaymentStatus, frozenset[PaymentStatus]] = {
    PaymentStatus.PENDING: frozenset(
        {
            PaymentStatus.NEEDS_ACTION,
            PaymentStatus.FAILED,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.CANCELED,
        }
    ),
    PaymentStatus.NEEDS_ACTION: frozenset(
        {
            PaymentStatus.PENDING,
            PaymentStatus.FAILED,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.CANCELED,
        }
    ),
    # Stripe lets the payer retry a failed PaymentIntent with another card.
    PaymentStatus.FAILED: frozenset(
        {
            PaymentStatus.PENDING,
            PaymentStatus.NEEDS_ACTION,
            PaymentStatus.SUCCEEDED,
            PaymentStatus.CANCELED,
        }
    ),
    PaymentStatus.SUCCEEDED: frozenset(),
    PaymentStatus.CANCELED: frozenset(),
}


class RefundStatus(StrEnum):
    REQUESTED = "requested"  # the wallet amount is held; the gateway is asked
    SUCCEEDED = "succeeded"  # the hold was captured
    FAILED = "failed"  # the hold was released


REFUND_TRANSITIONS: dict[RefundStatus, frozenset[RefundStatus]] = {
    RefundStatus.REQUESTED: frozenset({RefundStatus.SUCCEEDED, RefundStatus.FAILED}),
    RefundStatus.SUCCEEDED: frozenset(),
    RefundStatus.FAILED: frozenset(),
}


class PayoutStatus(StrEnum):
    REQUESTED = "requested"  # the wallet amount is held; the transfer is being made
    PAID = "paid"  # transferred to the person's payout account; the hold was captured
    FAILED = "failed"  # the gateway refused; the hold was released and the person told
    REVERSED = "reversed"  # the gateway reversed a transfer; the wallet was credited back


PAYOUT_TRANSITIONS: dict[PayoutStatus, frozenset[PayoutStatus]] = {
    PayoutStatus.REQUESTED: frozenset({PayoutStatus.PAID, PayoutStatus.FAILED}),
    PayoutStatus.PAID: frozenset({PayoutStatus.REVERSED}),
    PayoutStatus.FAILED: frozenset(),
    PayoutStatus.REVERSED: frozenset(),
}


def _move(obj, table: dict, enum, target) -> None:
    current = enum(obj.status)
    if target not in table[current]:
        raise InvalidState(f"{type(obj).__name__} {obj.id} is {current}; it cannot become {target}")
    obj.status = target


class Payment(Base):
    """Money coming in: a deposit the gateway confirms before any wallet sees it."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("fee_minor IS NULL OR fee_minor >= 0", name="fee_non_negative"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint(f"status IN ({_sql_in(PaymentStatus)})", name="status"),
        CheckConstraint("purpose IN ('deposit')", name="purpose"),
        CheckConstraint(
            "(status = 'succeeded') = (ledger_entry_id IS NOT NULL)", name="credited_iff_succeeded"
        ),
        Index("ix_payments_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    purpose: Mapped[str] = mapped_column(String(16), default="deposit")
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PaymentStatus.PENDING)
    gateway: Mapped[str] = mapped_column(String(16))
    gateway_payment_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The caller's key, scoped by person: "<user id>:<key>".
    idempotency_key: Mapped[str] = mapped_column(String(240), unique=True)
    fee_minor: Mapped[int | None] = mapped_column(BigInteger)
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    fee_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    failure_code: Mapped[str | None] = mapped_column(String(80))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)
    succeeded_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def move_to(self, target: PaymentStatus) -> None:
        _move(self, PAYMENT_TRANSITIONS, PaymentStatus, target)


class Refund(Base):
    """Money going back to the card it came from."""

    __tablename__ = "payment_refunds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint(f"status IN ({_sql_in(RefundStatus)})", name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payments.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=RefundStatus.REQUESTED)
    gateway_refund_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(240), unique=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_holds.id"))
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    failure_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)

    def move_to(self, target: RefundStatus) -> None:
        _move(self, REFUND_TRANSITIONS, RefundStatus, target)


class ConnectedAccount(Base):
    """A person's payout account at the gateway (Stripe Connect Express)."""

    __tablename__ = "payout_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    gateway: Mapped[str] = mapped_column(String(16))
    gateway_account_id: Mapped[str] = mapped_column(String(255), unique=True)
    country: Mapped[str] = mapped_column(String(2))
    payouts_enabled: Mapped[bool] = mapped_column(Boolean, default=False)
    details_submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    bank_last4: Mapped[str | None] = mapped_column(String(4))
    # What the gateway last told us about a bank payout from this account.
    last_bank_payout_status: Mapped[str | None] = mapped_column(String(32))
    last_bank_payout_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)


class Payout(Base):
    """Money going out: a withdrawal from the wallet to the person's payout account."""

    __tablename__ = "payouts"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint(f"status IN ({_sql_in(PayoutStatus)})", name="status"),
        Index("ix_payouts_user_id_id", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    payout_account_id: Mapped[int] = mapped_column(ForeignKey("payout_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=PayoutStatus.REQUESTED)
    gateway: Mapped[str] = mapped_column(String(16))
    gateway_transfer_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    idempotency_key: Mapped[str] = mapped_column(String(240), unique=True)
    hold_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_holds.id"))
    ledger_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    reversal_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))
    failure_message: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now, onupdate=now)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    def move_to(self, target: PayoutStatus) -> None:
        _move(self, PAYOUT_TRANSITIONS, PayoutStatus, target)


class EventOutcome(StrEnum):
    PROCESSED = "processed"  # the event changed (or confirmed) our state
    IGNORED = "ignored"  # acknowledged; nothing of ours to change (e.g. unknown payment)
    UNKNOWN_TYPE = "unknown_type"  # a type we do not handle; acknowledged and logged
    REFUSED = "refused"  # it contradicts the gateway's own state (e.g. amount mismatch)


class GatewayEvent(Base):
    """Each gateway event we processed, once: the UNIQUE event id makes a second delivery
    a no-op. A handler error rolls back, so a failed event is never recorded here."""

    __tablename__ = "gateway_events"
    __table_args__ = (CheckConstraint(f"outcome IN ({_sql_in(EventOutcome)})", name="outcome"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    gateway: Mapped[str] = mapped_column(String(16))
    type: Mapped[str] = mapped_column(String(100), index=True)
    object_id: Mapped[str] = mapped_column(String(255), index=True)
    account_id: Mapped[str | None] = mapped_column(String(255))
    outcome: Mapped[str] = mapped_column(String(16))
    detail: Mapped[str] = mapped_column(String(500), default="")
    payload: Mapped[str] = mapped_column(Text)
    event_created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    processed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


# --- the embedded test-mode gateway's own books ------------------------------------------------
# These tables play the part of Stripe's servers when no Stripe key is configured; our
# payment rows above never point into them except through gateway ids, as with Stripe.


class TestModeObject(Base):
    """A test-mode gateway object (payment intent, charge, refund, account, transfer, ...)
    stored as its Stripe-shaped JSON."""

    __tablename__ = "testmode_objects"
    __test__ = False  # not a pytest test class

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32), index=True)
    data: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class TestModeRequest(Base):
    """Idempotency keys the test-mode gateway has seen, with a hash of the parameters."""

    __tablename__ = "testmode_requests"
    __test__ = False

    idempotency_key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    # The first answer, object or error, replayed as it was (Stripe saves the response).
    response: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class TestModeEvent(Base):
    """Events the test-mode gateway emitted; signed at each delivery attempt, like Stripe."""

    __tablename__ = "testmode_events"
    __test__ = False

    seq: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    type: Mapped[str] = mapped_column(String(100))
    payload: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    attempts: Mapped[int] = mapped_column(default=0)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
