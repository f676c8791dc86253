"""A hypothesis state machine drives the real ledger services with random deposits,
transfers, holds, captures, releases, expiries, reversals and idempotent replays, and
after every step checks the ledger against a plain-Python model of it:

- the postings sum to zero per currency;
- every cached balance (posted, held) equals the sum of its postings / pending holds, and
  equals the model;
- no wallet is negative (posted or available);
- every hold resolves at most once (a second resolution raises InvalidState);
- a refused command changes nothing (the model did not change, so neither may the DB).

Each example runs in its own rolled-back transaction; the suite loads the derandomized
"ci" profile (tests/conftest.py), so CI runs the same examples every time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import sessionmaker

from p2pbank import clock
from p2pbank.errors import InsufficientFunds, InvalidState
from p2pbank.ledger import holds as ledger_holds
from p2pbank.ledger import services
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.models import Account, Hold, JournalEntry, Posting
from p2pbank.money import Money

START = datetime(2026, 5, 4, 12, 0, tzinfo=UTC)
CLEARING = "sm:clearing"
SINK = "sm:sink"
WALLETS = [f"sm:wallet:{i}" for i in range(4)]

wallet_index = st.integers(min_value=0, max_value=len(WALLETS) - 1)
amounts = st.integers(min_value=1, max_value=6_000)


class LedgerMachine(RuleBasedStateMachine):
    engine = None  # set by the test

    holds = Bundle("holds")
    entries = Bundle("entries")

    def __init__(self) -> None:
        super().__init__()
        self.connection = self.engine.connect()
        self.outer = self.connection.begin()
        self.session = sessionmaker(
            bind=self.connection,
            join_transaction_mode="create_savepoint",
            expire_on_commit=False,
        )()
        clock.set_now(START)
        self.n = 0
        self.posted: dict[str, int] = {}
        self.held: dict[str, int] = {}
        self.hold_model: dict[int, dict] = {}  # id -> account, amount, status, expires_at
        self.entry_legs: dict[int, list[tuple[str, int]]] = {}
        self.reversed: set[int] = set()
        self.reversals: set[int] = set()
        self.replays: list = []  # (callable, expected id)

    # --- helpers --------------------------------------------------------------------------

    def key(self, prefix: str) -> str:
        self.n += 1
        return f"sm:{prefix}:{self.n}"

    def available(self, code: str) -> int:
        return self.posted[code] - self.held[code]

    def applied(self, entry) -> int:
        legs = [(p.account.code, p.amount_minor) for p in entry.postings]
        self.entry_legs[entry.id] = legs
        for code, amount in legs:
            self.posted[code] += amount
        return entry.id

    def teardown(self) -> None:
        try:
            report = check_ledger(self.session)
            assert report.ok, report.violations
        finally:
            self.session.close()
            self.outer.rollback()
            self.connection.close()
            clock.set_now(None)

    # --- rules ----------------------------------------------------------------------------

    @initialize()
    def open_accounts(self) -> None:
        services.ensure_account(self.session, CLEARING, type="asset")
        services.ensure_account(self.session, SINK, type="expense")
        for code in WALLETS:
            services.ensure_account(self.session, code, type="liability", no_negative=True)
        for code in (CLEARING, SINK, *WALLETS):
            self.posted[code] = 0
            self.held[code] = 0

    @rule(target=entries, to=wallet_index, amount=amounts)
    def deposit(self, to, amount):
        key = self.key("deposit")

        def command():
            return services.post_entry(
                self.session,
                postings=[(CLEARING, -amount), (WALLETS[to], amount)],
                kind="deposit",
                idempotency_key=key,
            )

        entry_id = self.applied(command())
        self.replays.append((command, entry_id))
        return entry_id

    @rule(target=entries, source=wallet_index, to=st.integers(0, len(WALLETS)), amount=amounts)
    def transfer(self, source, to, amount):
        from_code = WALLETS[source]
        to_code = SINK if to == len(WALLETS) else WALLETS[to]
        if from_code == to_code:
            return multiple()
        key = self.key("transfer")

        def command():
            return services.transfer(
                self.session,
                from_code=from_code,
                to_code=to_code,
                amount=Money(amount),
                kind="transfer",
                idempotency_key=key,
            )

        if self.available(from_code) < amount:
            with pytest.raises(InsufficientFunds):
                command()
            return multiple()
        entry_id = self.applied(command())
        self.replays.append((command, entry_id))
        return entry_id

    @rule(
        target=holds,
        on=wallet_index,
        amount=amounts,
        minutes=st.one_of(st.none(), st.integers(min_value=1, max_value=240)),
    )
    def place_hold(self, on, amount, minutes):
        code = WALLETS[on]
        expires_at = None if minutes is None else clock.now() + timedelta(minutes=minutes)
        key = self.key("hold")

        def command():
            return ledger_holds.hold(
                self.session,
                account_code=code,
                amount=Money(amount),
                idempotency_key=key,
                expires_at=expires_at,
            )

        if self.available(code) < amount:
            with pytest.raises(InsufficientFunds):
                command()
            return multiple()
        row = command()
        self.held[code] += amount
        self.hold_model[row.id] = {
            "account": code,
            "amount": amount,
            "status": "pending",
            "expires_at": expires_at,
        }
        self.replays.append((command, row.id))
        return row.id

    @rule(
        target=entries,
        hold_id=holds,
        part=st.one_of(st.none(), st.integers(min_value=1, max_value=100)),
        to=st.integers(0, len(WALLETS)),
    )
    def capture(self, hold_id, part, to):
        model = self.hold_model[hold_id]
        to_code = SINK if to == len(WALLETS) else WALLETS[to]
        if to_code == model["account"]:
            to_code = SINK
        minor = model["amount"] if part is None else max(1, model["amount"] * part // 100)
        amount = None if part is None else Money(minor)
        key = self.key("capture")

        def command():
            return ledger_holds.capture_hold(
                self.session,
                hold_id,
                to_code=to_code,
                amount=amount,
                idempotency_key=key,
                kind="pledge_capture",
            )

        expired = model["expires_at"] is not None and clock.now() >= model["expires_at"]
        if model["status"] != "pending" or expired:
            with pytest.raises(InvalidState):
                command()
            return multiple()
        entry_id = self.applied(command())
        model["status"] = "captured"
        self.held[model["account"]] -= model["amount"]
        self.replays.append((command, entry_id))
        return entry_id

    @rule(hold_id=holds)
    def release(self, hold_id):
        model = self.hold_model[hold_id]
        key = self.key("release")

        def command():
            return ledger_holds.release_hold(self.session, hold_id, idempotency_key=key)

        if model["status"] != "pending":
            with pytest.raises(InvalidState):
                command()
            return
        row = command()
        assert row.status == "released"
        model["status"] = "released"
        self.held[model["account"]] -= model["amount"]
        self.replays.append((command, row.id))

    @rule(minutes=st.integers(min_value=1, max_value=180))
    def time_passes(self, minutes):
        now = clock.advance(timedelta(minutes=minutes))
        due = [
            hold_id
            for hold_id, m in self.hold_model.items()
            if m["status"] == "pending" and m["expires_at"] is not None and m["expires_at"] <= now
        ]
        assert ledger_holds.expire_holds(self.session, now) == len(due)
        for hold_id in due:
            model = self.hold_model[hold_id]
            model["status"] = "expired"
            self.held[model["account"]] -= model["amount"]

    @rule(target=entries, entry_id=consumes(entries))
    def reverse(self, entry_id):
        key = self.key("reverse")

        def command():
            return services.reverse_entry(
                self.session, entry_id, reason="state machine", idempotency_key=key
            )

        if entry_id in self.reversed or entry_id in self.reversals:
            with pytest.raises(InvalidState):
                command()
            return multiple()
        mirrored = [(code, -amount) for code, amount in self.entry_legs[entry_id]]
        overdrawn = any(
            amount < 0 and code in WALLETS and self.available(code) + amount < 0
            for code, amount in mirrored
        )
        if overdrawn:
            with pytest.raises(InsufficientFunds):
                command()
            return multiple()
        reversal_id = self.applied(command())
        self.reversed.add(entry_id)
        self.reversals.add(reversal_id)
        self.replays.append((command, reversal_id))
        return multiple(reversal_id, entry_id)

    @rule(pick=st.integers(min_value=0, max_value=10_000))
    def replay(self, pick):
        if not self.replays:
            return
        command, expected_id = self.replays[pick % len(self.replays)]
        assert command().id == expected_id

    # --- invariants -----------------------------------------------------------------------

    @invariant()
    def postings_sum_to_zero_per_currency(self):
        for currency, total in self.session.execute(
            select(Posting.currency, func.sum(Posting.amount_minor)).group_by(Posting.currency)
        ):
            assert total == 0, (currency, total)

    @invariant()
    def cached_balances_equal_postings_holds_and_the_model(self):
        if not self.posted:
            return
        self.session.expire_all()
        sums = dict(
            self.session.execute(
                select(Account.code, func.coalesce(func.sum(Posting.amount_minor), 0))
                .outerjoin(Posting, Posting.account_id == Account.id)
                .group_by(Account.code)
            ).all()
        )
        pending = dict(
            self.session.execute(
                select(Account.code, func.sum(Hold.amount_minor))
                .join(Hold, Hold.account_id == Account.id)
                .where(Hold.status == "pending")
                .group_by(Account.code)
            ).all()
        )
        for account in self.session.scalars(select(Account).where(Account.code.like("sm:%"))):
            code = account.code
            assert account.posted_minor == sums[code] == self.posted[code], code
            assert account.held_minor == (pending.get(code) or 0) == self.held[code], code

    @invariant()
    def no_wallet_is_negative(self):
        for code in WALLETS if self.posted else ():
            assert self.posted[code] >= 0 and self.available(code) >= 0, code

    @invariant()
    def holds_resolve_at_most_once(self):
        rows = self.session.execute(
            select(Hold.id, Hold.status, Hold.capture_entry_id).where(
                Hold.idempotency_key.like("sm:%")
            )
        ).all()
        assert {hold_id: status for hold_id, status, _ in rows} == {
            hold_id: m["status"] for hold_id, m in self.hold_model.items()
        }
        for _hold_id, status, entry_id in rows:
            assert (status == "captured") == (entry_id is not None)

    @invariant()
    def nothing_extra_was_written(self):
        count = self.session.scalar(
            select(func.count(JournalEntry.id)).where(JournalEntry.idempotency_key.like("sm:%"))
        )
        assert count == len(self.entry_legs)


def test_ledger_state_machine(engine):
    LedgerMachine.engine = engine
    run_state_machine_as_test(LedgerMachine, settings=settings(stateful_step_count=30))
