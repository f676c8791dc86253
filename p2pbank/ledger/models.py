"""Ledger entities: accounts with cached balances, immutable journal entries and postings,
and two-phase holds.

Sign convention (see also p2pbank.ledger.services): a posting's `amount_minor` is signed
from the account's point of view, credit positive and debit negative. An account's posted
balance is the sum of its postings (credits minus debits, as TigerBeetle reports a
credit-normal account), and every entry's postings sum to zero. A user's wallet is a
liability of the platform, so money a user can spend is a positive balance; a platform
asset such as `platform:gateway_clearing` carries its normal debit (negative) balance.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    event,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime, register_postgres_ddl
from p2pbank.errors import InvalidState


class AccountType(StrEnum):
    ASSET = "asset"
    LIABILITY = "liability"
    INCOME = "income"
    EXPENSE = "expense"
    EQUITY = "equity"


# The side on which each type's balance normally sits (for the trial balance).
NORMAL_SIDE: dict[AccountType, str] = {
    AccountType.ASSET: "debit",
    AccountType.EXPENSE: "debit",
    AccountType.LIABILITY: "credit",
    AccountType.INCOME: "credit",
    AccountType.EQUITY: "credit",
}


class EntryKind(StrEnum):
    """Kinds in common use. Other domains may post further lower-case kinds (any
    `[a-z][a-z0-9_]*` up to 40 characters); these are the ones the ledger itself knows."""

    DEPOSIT = "deposit"
    WITHDRAWAL = "withdrawal"
    TRANSFER = "transfer"
    LOAN_FUNDING = "loan_funding"
    REPAYMENT = "repayment"
    FEE = "fee"
    PLEDGE_HOLD = "pledge_hold"
    PLEDGE_CAPTURE = "pledge_capture"
    REFUND = "refund"
    REVERSAL = "reversal"


class HoldStatus(StrEnum):
    PENDING = "pending"
    CAPTURED = "captured"
    RELEASED = "released"
    EXPIRED = "expired"


# A hold resolves exactly once: pending is the only state with a way out.
HOLD_TRANSITIONS: dict[HoldStatus, frozenset[HoldStatus]] = {
    HoldStatus.PENDING: frozenset({HoldStatus.CAPTURED, HoldStatus.RELEASED, HoldStatus.EXPIRED}),
    HoldStatus.CAPTURED: frozenset(),
    HoldStatus.RELEASED: frozenset(),
    HoldStatus.EXPIRED: frozenset(),
}

ACCOUNT_TYPES_SQL = ",".join(f"'{t.value}'" for t in AccountType)
HOLD_STATUSES_SQL = ",".join(f"'{s.value}'" for s in HoldStatus)


class Account(Base):
    """A ledger account; `posted_minor` and `held_minor` are caches of the postings and of
    the pending holds, updated in the same transaction under a row lock."""

    __tablename__ = "ledger_accounts"
    __table_args__ = (
        CheckConstraint(f"type IN ({ACCOUNT_TYPES_SQL})", name="type"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint("held_minor >= 0", name="held_non_negative"),
        CheckConstraint(
            "NOT no_negative OR (posted_minor >= 0 AND posted_minor - held_minor >= 0)",
            name="no_negative_balance",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(120), unique=True)
    type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3))
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    no_negative: Mapped[bool] = mapped_column(Boolean, default=False)
    posted_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    held_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def available_minor(self) -> int:
        return self.posted_minor - self.held_minor

    @property
    def is_closed(self) -> bool:
        return self.closed_at is not None


class JournalEntry(Base):
    """A balanced set of postings; never updated or deleted (a reversal undoes it)."""

    __tablename__ = "journal_entries"
    __table_args__ = (
        CheckConstraint("length(kind) > 0", name="kind"),
        CheckConstraint("length(currency) = 3", name="currency"),
        CheckConstraint("length(content_hash) = 64", name="content_hash"),
        Index("ix_journal_entries_ref", "ref_type", "ref_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3))
    memo: Mapped[str] = mapped_column(String(500), default="")
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None] = mapped_column(BigInteger)
    gateway_ref: Mapped[str | None] = mapped_column(String(200), index=True)
    reverses_entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("journal_entries.id"), unique=True
    )
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())

    postings: Mapped[list[Posting]] = relationship(
        back_populates="entry", order_by="Posting.id", lazy="selectin"
    )


class Posting(Base):
    """One leg of an entry: a signed amount (credit positive, debit negative) on one
    account, with the account's posted balance right after it (for statements)."""

    __tablename__ = "postings"
    __table_args__ = (
        CheckConstraint("amount_minor <> 0", name="amount_non_zero"),
        CheckConstraint("length(currency) = 3", name="currency"),
        Index("ix_postings_account_id_id", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    balance_after_minor: Mapped[int] = mapped_column(BigInteger)

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")
    account: Mapped[Account] = relationship()


class Hold(Base):
    """A reservation on an account (TigerBeetle's pending transfer): the available balance
    drops, the posted balance does not, until it is captured, released or expires."""

    __tablename__ = "ledger_holds"
    __table_args__ = (
        CheckConstraint("amount_minor > 0", name="amount_positive"),
        CheckConstraint(f"status IN ({HOLD_STATUSES_SQL})", name="status"),
        CheckConstraint(
            "captured_minor IS NULL OR (captured_minor > 0 AND captured_minor <= amount_minor)",
            name="captured_within_amount",
        ),
        CheckConstraint(
            "(status = 'captured') = (capture_entry_id IS NOT NULL)", name="capture_entry"
        ),
        CheckConstraint("(status = 'pending') = (resolved_at IS NULL)", name="resolved_at"),
        Index("ix_ledger_holds_status_expires_at", "status", "expires_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(16), default=HoldStatus.PENDING)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    resolution_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    ref_type: Mapped[str | None] = mapped_column(String(40))
    ref_id: Mapped[int | None] = mapped_column(BigInteger)
    memo: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    captured_minor: Mapped[int | None] = mapped_column(BigInteger)
    capture_entry_id: Mapped[int | None] = mapped_column(ForeignKey("journal_entries.id"))

    account: Mapped[Account] = relationship()

    def move_to(self, target: HoldStatus) -> None:
        current = HoldStatus(self.status)
        if target not in HOLD_TRANSITIONS[current]:
            raise InvalidState(f"hold {self.id} is {current}; it cannot become {target}")
        self.status = target


# --- immutability ---------------------------------------------------------------------------

IMMUTABLE = (JournalEntry, Posting)


class ImmutableRecord(InvalidState):
    """Someone tried to change or delete a journal entry or posting."""


@event.listens_for(Session, "before_flush")
def _refuse_changes_to_history(session: Session, _context, _instances) -> None:
    for obj in session.deleted:
        if isinstance(obj, IMMUTABLE):
            raise ImmutableRecord(f"{type(obj).__name__} rows are never deleted; post a reversal")
    for obj in session.dirty:
        if isinstance(obj, IMMUTABLE) and session.is_modified(obj, include_collections=False):
            raise ImmutableRecord(f"{type(obj).__name__} rows are never changed; post a reversal")


def _refuse_row_change(_mapper, _connection, target) -> None:
    raise ImmutableRecord(f"{type(target).__name__} rows are never changed; post a reversal")


for _cls in IMMUTABLE:
    event.listen(_cls, "before_update", _refuse_row_change)
    event.listen(_cls, "before_delete", _refuse_row_change)


register_postgres_ddl(
    """CREATE OR REPLACE FUNCTION ledger_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = 'ledger history is immutable: ' || TG_OP || ' on ' || TG_TABLE_NAME,
        ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql""",
    "DROP FUNCTION IF EXISTS ledger_refuse_change()",
)
for _table in ("journal_entries", "postings"):
    register_postgres_ddl(
        f"CREATE TRIGGER {_table}_immutable BEFORE UPDATE OR DELETE ON {_table} "
        "FOR EACH ROW EXECUTE FUNCTION ledger_refuse_change()",
        f"DROP TRIGGER IF EXISTS {_table}_immutable ON {_table}",
    )
    register_postgres_ddl(
        f"CREATE TRIGGER {_table}_no_truncate BEFORE TRUNCATE ON {_table} "
        "FOR EACH STATEMENT EXECUTE FUNCTION ledger_refuse_change()",
        f"DROP TRIGGER IF EXISTS {_table}_no_truncate ON {_table}",
    )
