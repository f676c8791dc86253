"""Lending entities: loan requests (listings), lender orders, commitments, match records,
loans with their parts and instalments, repayments and the repayment events the trust
engine reads. Lifecycles are transition tables that raise InvalidState.

Money is integer cents with a currency column; rates are basis points; the ledger holds
the money itself (holds for orders and commitments, entries for loans and repayments),
these rows say what the money is for.

One module per aggregate (listings, orders, loans, repayments), all re-exported here:
importing this package registers every table (p2pbank.models.load_all).
"""

from __future__ import annotations

from p2pbank.lending.models.listings import (
    COMMITMENT_TRANSITIONS,
    REQUEST_TRANSITIONS,
    Commitment,
    CommitmentStatus,
    LoanRequest,
    MatchRecord,
    RequestStatus,
)
from p2pbank.lending.models.loans import (
    LOAN_TRANSITIONS,
    Instalment,
    InstalmentPart,
    InstalmentStatus,
    Loan,
    LoanPart,
    LoanStatus,
)
from p2pbank.lending.models.orders import (
    ORDER_TRANSITIONS,
    LenderOrder,
    OrderStatus,
)
from p2pbank.lending.models.repayments import (
    EventKind,
    Repayment,
    RepaymentEvent,
    RepaymentKind,
    RepaymentShare,
    WriteOff,
)

__all__ = [
    "RequestStatus",
    "REQUEST_TRANSITIONS",
    "LoanRequest",
    "CommitmentStatus",
    "COMMITMENT_TRANSITIONS",
    "MatchRecord",
    "Commitment",
    "OrderStatus",
    "ORDER_TRANSITIONS",
    "LenderOrder",
    "LoanStatus",
    "LOAN_TRANSITIONS",
    "Loan",
    "LoanPart",
    "InstalmentStatus",
    "Instalment",
    "InstalmentPart",
    "RepaymentKind",
    "Repayment",
    "RepaymentShare",
    "WriteOff",
    "EventKind",
    "RepaymentEvent",
]
