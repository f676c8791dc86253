"""The ledger accounts lending uses and how its entries are posted; flush-only helpers.

Besides the wallets and `platform:fees`, lending keeps a pass-through pair (the way
LendingClub books member notes against member loans):

* `lending:lent:{lender_id}` (liability): principal the lender has out with borrowers.
* `lending:owed:{borrower_id}` (asset): principal the borrower owes.

Issuing a loan debits the lenders' wallets and credits their `lent` accounts, debits the
borrower's `owed` and credits the borrower's wallet minus the origination fee, which goes
to `platform:fees` -- one balanced entry. Repayments reverse the principal legs; a
write-off at default takes the rest out of `lent` and `owed` (the lenders see the loss);
recoveries after that are paid from the borrower's wallet to the lenders' wallets.

Every lending command first locks every account it will touch, in ascending id order, so
two lending commands never wait for each other in opposite orders (the ledger's own
commands lock in id order too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.ledger import batch
from p2pbank.ledger import inputs as ledger_inputs
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import Account, AccountType, JournalEntry
from p2pbank.uow import for_update

FEES = ledger.PLATFORM_FEES


def lent_code(lender_id: int) -> str:
    return f"lending:lent:{lender_id}"


def owed_code(borrower_id: int) -> str:
    return f"lending:owed:{borrower_id}"


def wallet_code(user_id: int) -> str:
    return ledger.wallet_code(user_id)


def ensure_lender_accounts(session: Session, lender_id: int) -> None:
    ledger.ensure_wallet(session, lender_id)
    ledger.ensure_account(
        session, lent_code(lender_id), type=AccountType.LIABILITY, owner_id=lender_id
    )


def ensure_borrower_accounts(session: Session, borrower_id: int) -> None:
    ledger.ensure_wallet(session, borrower_id)
    ledger.ensure_account(
        session, owed_code(borrower_id), type=AccountType.ASSET, owner_id=borrower_id
    )


def ensure_fees(session: Session) -> None:
    ledger.ensure_platform_account(session, FEES)


def lock_accounts(session: Session, codes: Iterable[str]) -> None:
    """Row-lock the accounts (they must exist) in ascending id order, before any ledger
    call of the command, so the lock order is the same in every lending command."""
    wanted = sorted(set(codes))
    if not wanted:
        return
    session.scalars(
        for_update(select(Account).where(Account.code.in_(wanted)).order_by(Account.id))
    ).all()


@dataclass
class LenderLegs:
    """One lender's row of an entry: what their wallet and `lent` account get (signed,
    credit positive) and what this lender's share adds to the common legs (borrower
    wallet, owed, fees). Each row balances on its own, so any group of rows does too."""

    lender_id: int
    wallet_minor: int
    lent_minor: int
    common: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        total = self.wallet_minor + self.lent_minor + sum(self.common.values())
        if total != 0:
            raise ValueError(f"the legs of lender {self.lender_id} do not balance: {total}")


def post_with_lenders(
    session: Session,
    *,
    lenders: Sequence[LenderLegs],
    kind: str,
    idempotency_key: str,
    ref_type: str,
    ref_id: int,
    memo: str,
) -> list[JournalEntry]:
    """Post one balanced entry: a wallet and a `lent` leg per lender, and the common legs
    summed over the lenders. Zero legs are left out.

    The ledger caps the postings of one entry (`ledger.inputs.MAX_POSTINGS`). A loan with more
    lenders than fit is posted as consecutive entries of lenders in id order, each
    balanced on its own (every lender's row balances), keys suffixed `:1`, `:2`, ...
    """
    ordered = sorted(lenders, key=lambda legs: legs.lender_id)
    codes = sorted({code for legs in ordered for code in legs.common})
    size = max(1, (ledger_inputs.MAX_POSTINGS - len(codes)) // 2)
    groups = [ordered[i : i + size] for i in range(0, len(ordered), size)]
    entries = []
    for number, group in enumerate(groups, start=1):
        legs: list[tuple[str, int]] = []
        for lender in group:
            legs.append((wallet_code(lender.lender_id), lender.wallet_minor))
            legs.append((lent_code(lender.lender_id), lender.lent_minor))
        for code in codes:
            legs.append((code, sum(lender.common.get(code, 0) for lender in group)))
        legs = [(code, amount) for code, amount in legs if amount != 0]
        if not legs:
            continue
        single = len(groups) == 1
        entries.append(
            batch.NewEntry(
                postings=legs,
                kind=kind,
                idempotency_key=idempotency_key if single else f"{idempotency_key}:{number}",
                ref_type=ref_type,
                ref_id=ref_id,
                memo=memo if single else f"{memo} ({number}/{len(groups)})",
            )
        )
    # All of them through the batch path: the accounts locked once, the entries written
    # together (a loan with a thousand lenders is a few entries, not a few transactions).
    return batch.post_entries(session, entries) if entries else []
