"""ledger-check finds each kind of damage and names it; the command exits non-zero.

The damage is done with raw SQL, bypassing the services (and, on PostgreSQL, the
immutability triggers, switched off for this transaction only), inside the test's
rolled-back transaction."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from p2pbank import clock
from p2pbank.audit import sequencer
from p2pbank.ledger import holds, services
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.services import PLATFORM_FEES
from p2pbank.ledger.services import PLATFORM_GATEWAY_CLEARING as CLEARING
from p2pbank.money import Money
from tests.support import money
from tests.support.ledger_tamper import raise_entry_amount


@pytest.fixture
def books(session, make_user):
    lena, bo = make_user(), make_user()
    services.ensure_platform_account(session, CLEARING)
    services.ensure_platform_account(session, PLATFORM_FEES)
    services.ensure_wallet(session, lena.id)
    services.ensure_wallet(session, bo.id)
    deposit = money.deposit(session, lena.id, 10_000, key="deposit:check", commit=False)
    pay = services.transfer(
        session,
        from_code=services.wallet_code(lena.id),
        to_code=services.wallet_code(bo.id),
        amount=Money(3_000),
        kind="transfer",
        idempotency_key="pay:check",
    )
    services.reverse_entry(session, pay.id, reason="test", idempotency_key="rev:check")
    held = holds.hold(
        session,
        account_code=services.wallet_code(lena.id),
        amount=Money(1_000),
        idempotency_key="hold:check",
    )
    captured = holds.hold(
        session,
        account_code=services.wallet_code(lena.id),
        amount=Money(500),
        idempotency_key="hold:captured",
    )
    holds.capture_hold(
        session, captured.id, to_code=PLATFORM_FEES, idempotency_key="cap:check", kind="fee"
    )
    sequencer.integrate_queued(session, clock.now())  # as it runs every second
    return {"lena": lena, "bo": bo, "deposit": deposit, "pay": pay, "hold": held}


def _bypass_history_guards(session) -> None:
    """Let raw SQL change postings/entries (PostgreSQL: skip ordinary triggers for the rest
    of this rolled-back transaction; SQLite has no triggers, the ORM guard is not involved)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))


def test_a_sound_ledger_has_no_violations(session, books):
    report = check_ledger(session)
    assert report.ok, report.violations
    assert report.totals == {"EUR": 0}
    assert report.open_holds == 1
    assert "0 violation(s)" in report.summary()


def test_a_wrong_cached_balance_is_named(session, books):
    code = services.wallet_code(books["bo"].id)
    session.execute(
        text("UPDATE ledger_accounts SET posted_minor = posted_minor + 7 WHERE code = :c"),
        {"c": code},
    )
    violations = check_ledger(session).violations
    assert violations == [f"account {code}: cached posted balance 7 != sum of postings 0"]


def test_a_held_balance_that_does_not_match_open_holds_is_named(session, books):
    session.execute(
        text("UPDATE ledger_holds SET status = 'released', resolved_at = created_at WHERE id = :h"),
        {"h": books["hold"].id},
    )
    code = services.wallet_code(books["lena"].id)
    assert check_ledger(session).violations == [
        f"account {code}: cached held balance 1000 != open holds 0"
    ]


def test_a_changed_posting_breaks_balance_hash_running_balance_and_cache(session, books):
    _bypass_history_guards(session)
    entry_id = books["deposit"].id
    session.execute(
        text(
            "UPDATE postings SET amount_minor = 9000, balance_after_minor = 9000 "
            "WHERE entry_id = :e AND amount_minor > 0"
        ),
        {"e": entry_id},
    )
    violations = check_ledger(session).violations
    code = services.wallet_code(books["lena"].id)
    joined = "\n".join(violations)
    assert f"entry {entry_id}: 2 posting(s) summing to -1000, not balanced" in violations
    assert f"entry {entry_id}: content does not match its content hash" in violations
    assert f"account {code}: cached posted balance" in joined
    assert f"({code}): balance after" in joined
    assert "currency EUR: postings sum to -1000, not zero" in violations


def test_a_changed_memo_breaks_the_content_hash(session, books):
    _bypass_history_guards(session)
    session.execute(
        text("UPDATE journal_entries SET memo = 'nothing to see' WHERE id = :e"),
        {"e": books["pay"].id},
    )
    violations = check_ledger(session).violations
    assert violations[0] == f"entry {books['pay'].id}: content does not match its content hash"
    # ... and the trust log's leaf disowns the changed entry too.
    assert violations[1].startswith(f"entry {books['pay'].id}: its stored rows hash to ")
    assert len(violations) == 2


def test_a_negative_protected_account_is_named(session, books):
    code = services.wallet_code(books["bo"].id)
    if session.get_bind().dialect.name == "postgresql":
        session.execute(
            text(
                "ALTER TABLE ledger_accounts DROP CONSTRAINT ck_ledger_accounts_no_negative_balance"
            )
        )
    else:
        session.execute(text("PRAGMA ignore_check_constraints = ON"))
    try:
        session.execute(
            text("UPDATE ledger_accounts SET posted_minor = -5 WHERE code = :c"), {"c": code}
        )
        violations = check_ledger(session).violations
    finally:
        if session.get_bind().dialect.name == "sqlite":
            session.execute(text("PRAGMA ignore_check_constraints = OFF"))
    assert f"account {code}: may not go negative but posted -5, available -5" in violations


def test_the_command_exits_non_zero_naming_each_violation(app, session, books):
    runner = app.test_cli_runner()
    ok = runner.invoke(args=["ledger-check"])
    assert ok.exit_code == 0, ok.output
    code = services.wallet_code(books["bo"].id)
    session.execute(
        text("UPDATE ledger_accounts SET posted_minor = posted_minor + 7 WHERE code = :c"),
        {"c": code},
    )
    session.commit()
    failed = runner.invoke(args=["ledger-check"])
    assert failed.exit_code == 1
    assert f"VIOLATION: account {code}: cached posted balance 7" in failed.output
    assert "1 violation(s)" in failed.output


@pytest.mark.parametrize(("position", "delta"), [(0, 900_000), (-2, 100), (-1, 100)])
def test_a_thoroughly_rewritten_entry_is_named_by_its_trust_log_leaf(
    session, books, position, delta
):
    # Review finding 1: amount raised (the first entry, a deposit, by EUR 9,000) on both
    # postings, running and cached balances and the content_hash column recomputed, every
    # constraint still met; only the entry's leaf in the trust log still tells.
    for n in range(2):  # two plain transfers last: a middle one and the newest entry
        services.transfer(
            session,
            from_code=services.wallet_code(books["lena"].id),
            to_code=services.wallet_code(books["bo"].id),
            amount=Money(1_000),
            kind="transfer",
            idempotency_key=f"later:{n}",
        )
    sequencer.integrate_queued(session, clock.now())  # as it runs every second
    ids = session.scalars(text("SELECT id FROM journal_entries ORDER BY id")).all()
    victim = ids[position]
    assert check_ledger(session).ok
    raise_entry_amount(session, victim, delta)
    report = check_ledger(session)
    assert len(report.violations) == 1, report.violations
    assert report.violations[0].startswith(f"entry {victim}: its stored rows hash to ")
    assert "the entry was changed after it was logged (log entry " in report.violations[0]
    assert report.first_entry_unlike_log == victim
    assert report.summary().endswith(f"first entry that differs from the trust log: {victim}")


def test_an_entry_missing_from_the_log_or_the_ledger_is_named(session, books):
    _bypass_history_guards(session)
    leaves = {
        json.loads(bytes(data))["payload"]["entry_id"]: sequence
        for sequence, data in session.execute(
            text("SELECT sequence, data FROM audit_leaves WHERE event_type = 'ledger.entry'")
        )
    }
    deposit, pay = books["deposit"].id, books["pay"].id
    session.execute(text("DELETE FROM audit_leaves WHERE sequence = :s"), {"s": leaves[deposit]})
    session.execute(text("DELETE FROM postings WHERE entry_id = :e"), {"e": pay})
    session.execute(text("UPDATE journal_entries SET reverses_entry_id = NULL"))
    session.execute(text("DELETE FROM journal_entries WHERE id = :e"), {"e": pay})
    violations = check_ledger(session).violations
    assert f"entry {deposit}: has no leaf in the trust log" in violations
    assert f"entry {pay}: is in the log but not in the ledger (log entry {leaves[pay]})" in (
        violations
    )


def test_an_entry_whose_leaf_still_waits_in_the_queue_is_not_missing(session, books):
    # Issue 14: leaves are queued by the posting and integrated by the sequencer; until
    # then the check compares the entry with its queued leaf.
    later = services.transfer(
        session,
        from_code=services.wallet_code(books["lena"].id),
        to_code=services.wallet_code(books["bo"].id),
        amount=Money(1_000),
        kind="transfer",
        idempotency_key="queued:1",
    )
    report = check_ledger(session)
    assert report.ok, report.violations
    raise_entry_amount(session, later.id, 5_000)
    violations = check_ledger(session).violations
    assert len(violations) == 1, violations
    assert violations[0].startswith(f"entry {later.id}: its stored rows hash to ")
    assert "its queued leaf holds" in violations[0]
    assert "the entry was changed after it was logged" in violations[0]
