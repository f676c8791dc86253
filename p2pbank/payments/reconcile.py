"""Reconciliation: every gateway payment, refund and transfer matched to exactly one ledger
entry, by gateway id and amount. Read-only; `flask payments-reconcile` and the auditor page
show the same report.

- a succeeded gateway payment <-> the `deposit` entry whose gateway_ref is its id;
- its fee (from the balance transaction) <-> the `gateway_fee` entry of that payment;
- a succeeded gateway refund <-> the `refund` entry of our refund row with that id;
- a gateway transfer <-> the `withdrawal` entry of our payout with that id, net of a
  reversal when the gateway reversed it.

Each line is matched, missing in ledger, missing at gateway, or amount mismatch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.ledger.models import Account, JournalEntry, Posting
from p2pbank.payments import services
from p2pbank.payments.gateway import GatewayRefundStatus, IntentStatus, PaymentGateway
from p2pbank.payments.models import Payout, Refund

MATCHED = "matched"
MISSING_IN_LEDGER = "missing_in_ledger"
MISSING_AT_GATEWAY = "missing_at_gateway"
AMOUNT_MISMATCH = "amount_mismatch"
STATUSES = (MATCHED, MISSING_IN_LEDGER, MISSING_AT_GATEWAY, AMOUNT_MISMATCH)


@dataclass(frozen=True)
class ReconLine:
    kind: str  # payment | fee | refund | transfer
    gateway_id: str
    status: str
    currency: str
    gateway_minor: int | None
    ledger_minor: int | None
    entry_ids: tuple[int, ...] = ()
    note: str = ""


@dataclass
class ReconReport:
    gateway: str
    since: datetime | None
    lines: list[ReconLine] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for line in self.lines if line.status == status)

    @property
    def counts(self) -> dict[str, int]:
        return {status: self.count(status) for status in STATUSES}

    @property
    def ok(self) -> bool:
        return all(line.status == MATCHED for line in self.lines)

    @property
    def problems(self) -> list[ReconLine]:
        return [line for line in self.lines if line.status != MATCHED]


def _entry_amounts(session: Session, entry_ids: list[int], account_code: str) -> dict[int, int]:
    """How much each entry moved on `account_code` (credit positive)."""
    if not entry_ids:
        return {}
    rows = session.execute(
        select(Posting.entry_id, Posting.amount_minor)
        .join(Account, Account.id == Posting.account_id)
        .where(Posting.entry_id.in_(entry_ids), Account.code == account_code)
    )
    return {entry_id: amount for entry_id, amount in rows}


def _entries(session: Session, kind: str, since: datetime | None) -> list[JournalEntry]:
    query = select(JournalEntry).where(JournalEntry.kind == kind)
    if since is not None:
        query = query.where(JournalEntry.created_at >= since)
    return list(session.scalars(query.order_by(JournalEntry.id)))


def _line(kind, gateway_id, currency, gateway_minor, entries: list[tuple[int, int]], note=""):
    """Compare one gateway amount with the ledger entries found for it."""
    ids = tuple(entry_id for entry_id, _ in entries)
    if not entries:
        return ReconLine(
            kind, gateway_id, MISSING_IN_LEDGER, currency, gateway_minor, None, ids, note
        )
    booked = sum(amount for _, amount in entries)
    if len(entries) > 1:
        note = (note + "; " if note else "") + f"booked {len(entries)} times"
        return ReconLine(
            kind, gateway_id, AMOUNT_MISMATCH, currency, gateway_minor, booked, ids, note
        )
    status = MATCHED if booked == gateway_minor else AMOUNT_MISMATCH
    return ReconLine(kind, gateway_id, status, currency, gateway_minor, booked, ids, note)


def reconcile(
    session: Session, gateway: PaymentGateway, *, since: datetime | None = None
) -> ReconReport:
    """Our books beside the gateway's, in three sections (payments and fees, refunds,
    transfers); each line is matched, an amount mismatch, or missing on one side."""
    report = ReconReport(gateway=gateway.name, since=since)
    _reconcile_payments(session, gateway, since, report)
    _reconcile_refunds(session, gateway, since, report)
    _reconcile_transfers(session, gateway, since, report)
    return report


def _reconcile_payments(
    session: Session,
    gateway: PaymentGateway,
    since: datetime | None,
    report: ReconReport,
) -> None:
    """Deposits and their fees: each succeeded gateway payment against its deposit entries, each
    charged fee against its fee entry, and deposits the gateway does not know."""
    clearing = services.CLEARING
    currency_of: dict[int, str] = {}  # entry id -> currency, for lines without a gateway side
    deposits = _entries(session, "deposit", since)
    currency_of.update((e.id, e.currency) for e in deposits)
    deposit_amounts = _entry_amounts(session, [e.id for e in deposits], clearing)
    by_ref: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for entry in deposits:
        # Money arriving at the gateway is a debit (negative) on the clearing account.
        by_ref[entry.gateway_ref or ""].append((entry.id, -deposit_amounts.get(entry.id, 0)))
    fees = _entries(session, "gateway_fee", None)
    fee_amounts = _entry_amounts(session, [e.id for e in fees], services.GATEWAY_FEES)
    fee_by_payment: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for entry in fees:
        if entry.ref_type == "payment" and entry.ref_id is not None:
            fee_by_payment[entry.ref_id].append((entry.id, -fee_amounts.get(entry.id, 0)))

    seen: set[str] = set()
    for gp in gateway.list_payments(since=since):
        if gp.status != IntentStatus.SUCCEEDED or services.META_PAYMENT not in gp.metadata:
            if by_ref.get(gp.id):
                seen.add(gp.id)
                report.lines.append(
                    _line(
                        "payment",
                        gp.id,
                        gp.amount.currency,
                        0,
                        by_ref[gp.id],
                        note=f"the gateway says {gp.status}",
                    )
                )
            continue
        seen.add(gp.id)
        report.lines.append(
            _line(
                "payment",
                gp.id,
                gp.amount.currency,
                gp.amount_received.minor,
                by_ref.get(gp.id, []),
            )
        )
        if gp.fee is not None:
            payment_id = int(gp.metadata[services.META_PAYMENT])
            booked = fee_by_payment.get(payment_id, [])
            if gp.fee.minor == 0 and not booked:
                continue  # nothing charged, nothing to book
            report.lines.append(
                _line(
                    "fee", gp.balance_transaction_id or gp.id, gp.fee.currency, gp.fee.minor, booked
                )
            )
    report.lines += _missing_at_gateway(
        "payment",
        by_ref,
        seen,
        currency_of,
        "no succeeded gateway payment",
        lambda ref: ref or "(none)",
    )


def _reconcile_refunds(
    session: Session,
    gateway: PaymentGateway,
    since: datetime | None,
    report: ReconReport,
) -> None:
    """Refunds: each succeeded gateway refund against its refund entries, and refund entries
    the gateway does not know."""
    clearing = services.CLEARING
    currency_of: dict[int, str] = {}  # entry id -> currency, for lines without a gateway side
    refund_rows = {
        r.gateway_refund_id: r
        for r in session.scalars(select(Refund).where(Refund.gateway_refund_id.is_not(None)))
    }
    refund_entries = _entries(session, "refund", since)
    currency_of.update((e.id, e.currency) for e in refund_entries)
    refund_amounts = _entry_amounts(session, [e.id for e in refund_entries], clearing)
    refund_by_row: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for entry in refund_entries:
        if entry.ref_type == "refund" and entry.ref_id is not None:
            refund_by_row[entry.ref_id].append((entry.id, refund_amounts.get(entry.id, 0)))
    seen_rows: set[int] = set()
    for gr in gateway.list_refunds(since=since):
        if gr.status != GatewayRefundStatus.SUCCEEDED:
            continue
        row = refund_rows.get(gr.id)
        entries = refund_by_row.get(row.id, []) if row else []
        if row:
            seen_rows.add(row.id)
        report.lines.append(
            _line(
                "refund",
                gr.id,
                gr.amount.currency,
                gr.amount.minor,
                entries,
                "" if row else "no refund of ours has this id",
            )
        )
    report.lines += _missing_at_gateway(
        "refund",
        refund_by_row,
        seen_rows,
        currency_of,
        "no succeeded gateway refund",
        lambda row_id: f"refund {row_id}",
    )


def _reconcile_transfers(
    session: Session,
    gateway: PaymentGateway,
    since: datetime | None,
    report: ReconReport,
) -> None:
    """Transfers (withdrawals): each gateway transfer, net of reversals, against its withdrawal
    and reversal entries, and payouts the gateway does not know."""
    clearing = services.CLEARING
    currency_of: dict[int, str] = {}  # entry id -> currency, for lines without a gateway side
    payouts = {
        p.gateway_transfer_id: p
        for p in session.scalars(select(Payout).where(Payout.gateway_transfer_id.is_not(None)))
    }
    withdrawals = _entries(session, "withdrawal", since)
    reversals = [e for e in _entries(session, "reversal", since) if e.ref_type == "payout"]
    currency_of.update((e.id, e.currency) for e in withdrawals + reversals)
    moved = _entry_amounts(session, [e.id for e in withdrawals + reversals], clearing)
    by_payout: dict[int, list[tuple[int, int]]] = defaultdict(list)
    for entry in withdrawals + reversals:
        if entry.ref_type == "payout" and entry.ref_id is not None:
            by_payout[entry.ref_id].append((entry.id, moved.get(entry.id, 0)))
    seen_payouts: set[int] = set()
    for tr in gateway.list_transfers(since=since):
        if services.META_PAYOUT not in tr.metadata:
            continue
        payout = payouts.get(tr.id)
        entries = by_payout.get(payout.id, []) if payout else []
        if payout:
            seen_payouts.add(payout.id)
        net_gateway = tr.amount.minor - tr.amount_reversed.minor
        ids = tuple(entry_id for entry_id, _ in entries)
        withdrawal_entries = [e for e in entries if e[1] > 0]
        if not withdrawal_entries:
            report.lines.append(
                ReconLine(
                    "transfer",
                    tr.id,
                    MISSING_IN_LEDGER,
                    tr.amount.currency,
                    net_gateway,
                    None,
                    ids,
                    "" if payout else "no payout of ours",
                )
            )
            continue
        net_ledger = sum(amount for _, amount in entries)
        if len(withdrawal_entries) > 1:
            status, note = AMOUNT_MISMATCH, f"booked {len(withdrawal_entries)} times"
        else:
            status, note = (MATCHED if net_ledger == net_gateway else AMOUNT_MISMATCH), ""
        if tr.amount_reversed.minor:
            note = (note + "; " if note else "") + "reversed at the gateway"
        report.lines.append(
            ReconLine(
                "transfer", tr.id, status, tr.amount.currency, net_gateway, net_ledger, ids, note
            )
        )
    report.lines += _missing_at_gateway(
        "transfer",
        by_payout,
        seen_payouts,
        currency_of,
        "no gateway transfer",
        lambda payout_id: f"payout {payout_id}",
    )


def _missing_at_gateway(
    kind: str,
    booked: dict,
    seen: set,
    currency_of: dict[int, str],
    note: str,
    label: Callable[[Any], str],
) -> list[ReconLine]:
    """A line for every booked entry whose gateway object was not seen."""
    return [
        ReconLine(
            kind,
            label(key),
            MISSING_AT_GATEWAY,
            currency_of[entry_id],
            None,
            amount,
            (entry_id,),
            note,
        )
        for key, entries in booked.items()
        if key not in seen
        for entry_id, amount in entries
    ]
