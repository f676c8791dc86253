"""The ledger service layer against the real database: posting, idempotency, holds,
reversals, refusals that write nothing, and immutability."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from p2pbank import clock
from p2pbank.audit.journal import canonical_json
from p2pbank.audit.models import QueuedLeaf
from p2pbank.errors import Conflict, InsufficientFunds, InvalidState, NotFound, ValidationFailed
from p2pbank.ledger import holds, journal_reads, queries, services
from p2pbank.ledger.entry_hash import content_hash
from p2pbank.ledger.models import Account, Hold, ImmutableRecord, JournalEntry, Posting
from p2pbank.ledger.services import PLATFORM_FEES
from p2pbank.ledger.services import PLATFORM_GATEWAY_CLEARING as CLEARING
from p2pbank.money import Money
from tests.support import money
from tests.support.database import is_postgres

EUR = "EUR"
SEED = "deposit:seed"  # the idempotency key of Lena's first deposit


@pytest.fixture
def ledger(session, make_user, frozen_now):
    """Two people with wallets, the clearing and fee accounts; Lena has EUR 100.00."""
    lena, bo = make_user(), make_user()
    services.ensure_platform_account(session, CLEARING)
    services.ensure_platform_account(session, PLATFORM_FEES)
    services.ensure_wallet(session, lena.id)
    services.ensure_wallet(session, bo.id)
    money.deposit(session, lena.id, 10_000, key=SEED, memo="card payment", commit=False)
    return {"lena": lena.id, "bo": bo.id}


def counts(session) -> tuple[int, int, int]:
    return (
        session.scalar(select(func.count(JournalEntry.id))),
        session.scalar(select(func.count(Posting.id))),
        session.scalar(select(func.count(Hold.id))),
    )


def wallet(session, user_id: int) -> tuple[int, int, int]:
    return tuple(queries.balances(session, services.wallet_code(user_id)))


def snapshot(session) -> tuple:
    """Everything a refused command must leave alone: row counts and every balance."""
    session.expire_all()
    rows = session.execute(
        select(Account.code, Account.posted_minor, Account.held_minor).order_by(Account.code)
    ).all()
    return counts(session), [tuple(r) for r in rows]


# --- accounts -------------------------------------------------------------------------------


def test_wallet_code_and_ensure_wallet_is_get_or_create(session, make_user):
    user = make_user()
    assert services.wallet_code(user.id) == f"user:{user.id}:wallet"
    assert services.wallet_code(user.id, "USD") == f"user:{user.id}:wallet:USD"
    first = services.ensure_wallet(session, user.id)
    again = services.ensure_wallet(session, user.id)
    assert first.id == again.id
    assert (first.type, first.currency, first.owner_id, first.no_negative) == (
        "liability",
        EUR,
        user.id,
        True,
    )


def test_ensure_account_refuses_different_attributes(session):
    services.ensure_account(session, "platform:test", type="asset")
    with pytest.raises(Conflict):
        services.ensure_account(session, "platform:test", type="income")
    with pytest.raises(Conflict):
        services.ensure_account(session, "platform:test", type="asset", currency="USD")


@pytest.mark.parametrize("code", ["", "User:1", "user", "user:1:", "a b:c", "x" * 121])
def test_ensure_account_refuses_bad_codes(session, code):
    with pytest.raises(ValidationFailed):
        services.ensure_account(session, code, type="asset")


def test_ensure_account_refuses_unknown_type_and_currency(session):
    with pytest.raises(ValidationFailed):
        services.ensure_account(session, "platform:x", type="cash")
    with pytest.raises(ValidationFailed):
        services.ensure_account(session, "platform:x", type="asset", currency="eur")


# --- posting --------------------------------------------------------------------------------


def test_deposit_credits_the_wallet_and_debits_clearing(session, ledger):
    assert wallet(session, ledger["lena"]) == (10_000, 0, 10_000)
    assert queries.balances(session, CLEARING).posted == -10_000
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "deposit"))
    assert sorted(p.amount_minor for p in entry.postings) == [-10_000, 10_000]
    assert sum(p.amount_minor for p in entry.postings) == 0


def test_same_key_same_content_returns_the_original(session, ledger):
    before = snapshot(session)
    again = money.deposit(
        session, ledger["lena"], 10_000, key=SEED, memo="card payment", commit=False
    )
    assert again.kind == "deposit"
    assert snapshot(session) == before


def test_same_key_different_content_is_a_conflict_and_writes_nothing(session, ledger):
    before = snapshot(session)
    with pytest.raises(Conflict):
        money.deposit(session, ledger["lena"], 9_999, key=SEED, memo="card payment", commit=False)
    with pytest.raises(Conflict):
        money.deposit(session, ledger["bo"], 10_000, key=SEED, memo="card payment", commit=False)
    assert snapshot(session) == before


def test_a_replay_after_the_money_moved_returns_the_original(session, ledger):
    """The same movement would now be refused (Lena has nothing left), but a replay of
    the key that moved it is the entry first posted, not a refusal."""
    whole = dict(from_code=services.wallet_code(ledger["lena"]), kind="transfer")
    first = services.transfer(
        session,
        **whole,
        to_code=services.wallet_code(ledger["bo"]),
        amount=Money(10_000),
        idempotency_key="all-of-it",
    )
    before = snapshot(session)
    again = services.transfer(
        session,
        **whole,
        to_code=services.wallet_code(ledger["bo"]),
        amount=Money(10_000),
        idempotency_key="all-of-it",
    )
    assert again.id == first.id
    assert snapshot(session) == before
    with pytest.raises(Conflict):  # other content under that key: still a conflict
        services.transfer(
            session,
            **whole,
            to_code=CLEARING,
            amount=Money(10_000),
            idempotency_key="all-of-it",
        )
    with pytest.raises(InsufficientFunds):  # a new key: the refusal it is
        services.transfer(
            session,
            **whole,
            to_code=services.wallet_code(ledger["bo"]),
            amount=Money(1),
            idempotency_key="one-more-cent",
        )
    assert snapshot(session) == before


def test_each_new_entry_queues_exactly_its_leaf(session, ledger):
    """Written in one statement on PostgreSQL and in steps on SQLite: either way the
    entry's leaf is queued with it, holding its id, kind and hash, and a replay queues
    nothing."""
    queued = select(QueuedLeaf).where(QueuedLeaf.event_type == "ledger.entry")
    already = len(session.scalars(queued).all())
    entry = services.transfer(
        session,
        from_code=services.wallet_code(ledger["lena"]),
        to_code=services.wallet_code(ledger["bo"]),
        amount=Money(2_500),
        kind="transfer",
        idempotency_key="leaf-test",
    )
    leaves = session.scalars(queued.where(QueuedLeaf.ref_id == entry.id)).all()
    assert len(leaves) == 1
    assert bytes(leaves[0].payload) == canonical_json(
        {"entry_id": entry.id, "kind": "transfer", "hash": entry.content_hash}
    )
    assert leaves[0].subject is None
    assert entry.content_hash == session.scalar(
        select(JournalEntry.content_hash).where(JournalEntry.id == entry.id)
    )
    assert wallet(session, ledger["bo"])[0] == 2_500
    services.transfer(
        session,
        from_code=services.wallet_code(ledger["lena"]),
        to_code=services.wallet_code(ledger["bo"]),
        amount=Money(2_500),
        kind="transfer",
        idempotency_key="leaf-test",
    )
    assert len(session.scalars(queued).all()) == already + 1


@pytest.mark.parametrize(
    "postings, message",
    [
        ([(CLEARING, -100), ("{lena}", 99)], "does not balance"),
        ([(CLEARING, -1.5), ("{lena}", 1.5)], "not float"),
        ([(CLEARING, 0), ("{lena}", 0)], "zero"),
        ([(CLEARING, -0), ("{lena}", 0)], "zero"),
        ([(CLEARING, True), ("{lena}", -1)], "not bool"),
        ([(CLEARING, "-100"), ("{lena}", "100")], "not str"),
        ([("{lena}", 100)], "2 to"),
        ([(CLEARING, -100), (CLEARING, 100)], "at most once"),
        ([(CLEARING, -(10**16)), ("{lena}", 10**16)], "out of range"),
        ("not a list", "list"),
    ],
)
def test_bad_postings_are_refused_and_nothing_written(session, ledger, postings, message):
    code = services.wallet_code(ledger["lena"])
    if isinstance(postings, list):
        postings = [(c.format(lena=code), a) for c, a in postings]
    before = snapshot(session)
    with pytest.raises(ValidationFailed, match=message):
        services.post_entry(session, postings=postings, kind="deposit", idempotency_key="bad")
    assert snapshot(session) == before


def test_unknown_account_is_refused(session, ledger):
    before = snapshot(session)
    with pytest.raises(NotFound, match="user:999999:wallet"):
        services.post_entry(
            session,
            postings=[(CLEARING, -100), ("user:999999:wallet", 100)],
            kind="deposit",
            idempotency_key="unknown",
        )
    assert snapshot(session) == before


def test_wrong_currency_is_refused(session, ledger):
    services.ensure_account(session, "platform:gateway_clearing:USD", type="asset", currency="USD")
    before = snapshot(session)
    with pytest.raises(ValidationFailed, match="holds EUR"):
        services.post_entry(
            session,
            postings=[
                ("platform:gateway_clearing:USD", -100),
                (services.wallet_code(ledger["lena"]), 100),
            ],
            currency="USD",
            kind="deposit",
            idempotency_key="usd",
        )
    with pytest.raises(ValidationFailed):
        services.post_entry(
            session,
            postings=[(CLEARING, -100), (services.wallet_code(ledger["lena"]), 100)],
            currency="euro",
            kind="deposit",
            idempotency_key="usd2",
        )
    with pytest.raises(ValidationFailed, match="the entry is in USD"):
        services.transfer(
            session,
            from_code=services.wallet_code(ledger["lena"]),
            to_code=services.wallet_code(ledger["bo"]),
            amount=Money(100, "USD"),
            kind="transfer",
            idempotency_key="usd3",
        )
    assert snapshot(session) == before


def test_closed_account_takes_no_postings(session, ledger):
    services.ensure_account(session, "platform:retired", type="expense")
    services.close_account(session, "platform:retired")
    before = snapshot(session)
    with pytest.raises(InvalidState, match="closed"):
        services.post_entry(
            session,
            postings=[(CLEARING, -100), ("platform:retired", 100)],
            kind="fee",
            idempotency_key="closed",
        )
    assert snapshot(session) == before


def test_an_account_with_a_balance_cannot_be_closed(session, ledger):
    with pytest.raises(InvalidState):
        services.close_account(session, services.wallet_code(ledger["lena"]))


def test_overdraft_of_a_no_negative_account_is_refused(session, ledger):
    before = snapshot(session)
    with pytest.raises(InsufficientFunds):
        services.transfer(
            session,
            from_code=services.wallet_code(ledger["lena"]),
            to_code=services.wallet_code(ledger["bo"]),
            amount=Money(10_001),
            kind="transfer",
            idempotency_key="too-much",
        )
    assert snapshot(session) == before


def test_transfer_of_everything_is_allowed(session, ledger):
    services.transfer(
        session,
        from_code=services.wallet_code(ledger["lena"]),
        to_code=services.wallet_code(ledger["bo"]),
        amount=Money(10_000),
        kind="transfer",
        idempotency_key="all",
    )
    assert wallet(session, ledger["lena"]) == (0, 0, 0)
    assert wallet(session, ledger["bo"]) == (10_000, 0, 10_000)


@pytest.mark.parametrize("amount", [100, 1.0, Money(0), Money(-5)])
def test_transfer_takes_positive_money_only(session, ledger, amount):
    with pytest.raises(ValidationFailed):
        services.transfer(
            session,
            from_code=services.wallet_code(ledger["lena"]),
            to_code=services.wallet_code(ledger["bo"]),
            amount=amount,
            kind="transfer",
            idempotency_key="t",
        )


def test_transfer_to_the_same_account_is_refused(session, ledger):
    code = services.wallet_code(ledger["lena"])
    with pytest.raises(ValidationFailed):
        services.transfer(
            session,
            from_code=code,
            to_code=code,
            amount=Money(1),
            kind="transfer",
            idempotency_key="self",
        )


@pytest.mark.parametrize("kind", ["", "Deposit", "has space", "x" * 41, None])
def test_bad_kind_is_refused(session, ledger, kind):
    with pytest.raises(ValidationFailed):
        deposit_kind(session, ledger, kind)


def deposit_kind(session, ledger, kind):
    return services.post_entry(
        session,
        postings=[(CLEARING, -1), (services.wallet_code(ledger["lena"]), 1)],
        kind=kind,
        idempotency_key="k",
    )


def test_content_hash_is_sha256_of_the_canonical_content(session, ledger):
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "deposit"))
    expected = content_hash(
        idempotency_key="deposit:seed",
        kind="deposit",
        currency=EUR,
        postings=[(services.wallet_code(ledger["lena"]), 10_000), (CLEARING, -10_000)],
        ref_type=None,
        ref_id=None,
        gateway_ref=None,
        memo="card payment",
        reverses_entry_id=None,
        created_at=clock.now(),
    )
    assert entry.content_hash == expected
    assert len(entry.content_hash) == 64
    assert services.stored_content_hash(session, entry) == expected


def test_refs_are_stored(session, ledger):
    entry = services.post_entry(
        session,
        postings=[(CLEARING, -50), (services.wallet_code(ledger["bo"]), 50)],
        kind="deposit",
        idempotency_key="with-refs",
        ref_type="payment",
        ref_id=17,
        gateway_ref="pi_123",
    )
    assert (entry.ref_type, entry.ref_id, entry.gateway_ref) == ("payment", 17, "pi_123")
    with pytest.raises(ValidationFailed):
        services.post_entry(
            session,
            postings=[(CLEARING, -50), (services.wallet_code(ledger["bo"]), 50)],
            kind="deposit",
            idempotency_key="bad-ref",
            ref_id="17",
        )


# --- holds ----------------------------------------------------------------------------------


def hold(session, ledger, minor, key="h1", **kw):
    return holds.hold(
        session,
        account_code=services.wallet_code(ledger["lena"]),
        amount=Money(minor),
        idempotency_key=key,
        **kw,
    )


def test_hold_lowers_available_but_not_posted(session, ledger):
    held = hold(session, ledger, 3_000, ref_type="pledge", ref_id=4)
    assert held.status == "pending"
    assert wallet(session, ledger["lena"]) == (10_000, 3_000, 7_000)
    summary = queries.wallet_summary(session, ledger["lena"])
    assert [h.id for h in summary.open_holds] == [held.id]


def test_money_on_hold_is_not_spendable(session, ledger):
    hold(session, ledger, 8_000)
    before = snapshot(session)
    with pytest.raises(InsufficientFunds):
        services.transfer(
            session,
            from_code=services.wallet_code(ledger["lena"]),
            to_code=services.wallet_code(ledger["bo"]),
            amount=Money(2_001),
            kind="transfer",
            idempotency_key="spend-held",
        )
    with pytest.raises(InsufficientFunds):
        hold(session, ledger, 2_001, key="h2")
    assert snapshot(session) == before


def test_hold_replay_and_conflict(session, ledger):
    first = hold(session, ledger, 1_000)
    before = snapshot(session)
    assert hold(session, ledger, 1_000).id == first.id
    with pytest.raises(Conflict):
        hold(session, ledger, 1_001)
    assert snapshot(session) == before


def test_capture_all_moves_the_money_and_frees_the_hold(session, ledger):
    held = hold(session, ledger, 3_000)
    entry = holds.capture_hold(
        session, held.id, to_code=PLATFORM_FEES, idempotency_key="c1", kind="fee"
    )
    assert held.status == "captured" and held.captured_minor == 3_000
    assert held.capture_entry_id == entry.id
    assert wallet(session, ledger["lena"]) == (7_000, 0, 7_000)
    assert queries.balances(session, PLATFORM_FEES).posted == 3_000


def test_partial_capture_returns_the_rest(session, ledger):
    held = hold(session, ledger, 3_000)
    holds.capture_hold(
        session,
        held.id,
        to_code=PLATFORM_FEES,
        amount=Money(1_200),
        idempotency_key="c1",
        kind="fee",
    )
    assert wallet(session, ledger["lena"]) == (8_800, 0, 8_800)


def test_capture_more_than_held_is_refused(session, ledger):
    held = hold(session, ledger, 3_000)
    before = snapshot(session)
    with pytest.raises(ValidationFailed):
        holds.capture_hold(
            session,
            held.id,
            to_code=PLATFORM_FEES,
            amount=Money(3_001),
            idempotency_key="c1",
            kind="fee",
        )
    assert snapshot(session) == before


def test_capture_after_release_is_invalid_and_writes_nothing(session, ledger):
    held = hold(session, ledger, 3_000)
    holds.release_hold(session, held.id, idempotency_key="r1")
    assert wallet(session, ledger["lena"]) == (10_000, 0, 10_000)
    before = snapshot(session)
    with pytest.raises(InvalidState):
        holds.capture_hold(
            session, held.id, to_code=PLATFORM_FEES, idempotency_key="c1", kind="fee"
        )
    with pytest.raises(InvalidState):
        holds.release_hold(session, held.id, idempotency_key="r2")
    assert snapshot(session) == before
    assert holds.release_hold(session, held.id, idempotency_key="r1").status == "released"


def test_capture_twice_is_invalid_but_a_replay_returns_the_entry(session, ledger):
    held = hold(session, ledger, 3_000)
    entry = holds.capture_hold(
        session, held.id, to_code=PLATFORM_FEES, idempotency_key="c1", kind="fee"
    )
    before = snapshot(session)
    replay = holds.capture_hold(
        session, held.id, to_code=PLATFORM_FEES, idempotency_key="c1", kind="fee"
    )
    assert replay.id == entry.id
    with pytest.raises(Conflict):
        holds.capture_hold(
            session,
            held.id,
            to_code=PLATFORM_FEES,
            amount=Money(5),
            idempotency_key="c1",
            kind="fee",
        )
    with pytest.raises(InvalidState):
        holds.capture_hold(
            session, held.id, to_code=PLATFORM_FEES, idempotency_key="c2", kind="fee"
        )
    with pytest.raises(InvalidState):
        holds.release_hold(session, held.id, idempotency_key="r1")
    assert snapshot(session) == before


def test_expiry_releases_due_holds_once(session, ledger, frozen_now):
    soon = hold(session, ledger, 1_000, key="soon", expires_at=frozen_now + timedelta(hours=1))
    later = hold(session, ledger, 2_000, key="later", expires_at=frozen_now + timedelta(days=2))
    forever = hold(session, ledger, 500, key="forever")
    assert holds.expire_holds(session, frozen_now) == 0
    clock.set_now(frozen_now + timedelta(hours=1))
    with pytest.raises(InvalidState, match="expired"):
        holds.capture_hold(
            session, soon.id, to_code=PLATFORM_FEES, idempotency_key="late", kind="fee"
        )
    assert holds.expire_holds(session, clock.now()) == 1
    assert holds.expire_holds(session, clock.now()) == 0
    assert (soon.status, later.status, forever.status) == ("expired", "pending", "pending")
    assert wallet(session, ledger["lena"]) == (10_000, 2_500, 7_500)
    with pytest.raises(InvalidState):
        holds.release_hold(session, soon.id, idempotency_key="too-late")


def test_hold_must_expire_in_the_future(session, ledger, frozen_now):
    with pytest.raises(ValidationFailed):
        hold(session, ledger, 100, expires_at=frozen_now)
    with pytest.raises(ValidationFailed):
        hold(session, ledger, 100, expires_at=frozen_now.replace(tzinfo=None))


def test_unknown_hold_is_not_found(session, ledger):
    with pytest.raises(NotFound):
        holds.release_hold(session, 987654, idempotency_key="x")


# --- reversals ------------------------------------------------------------------------------


def test_reversal_restores_the_balance_and_keeps_history(session, ledger):
    entry = services.transfer(
        session,
        from_code=services.wallet_code(ledger["lena"]),
        to_code=services.wallet_code(ledger["bo"]),
        amount=Money(2_500),
        kind="transfer",
        idempotency_key="t1",
    )
    reversal = services.reverse_entry(session, entry.id, reason="sent twice", idempotency_key="r1")
    assert reversal.reverses_entry_id == entry.id and reversal.kind == "reversal"
    assert sorted(p.amount_minor for p in reversal.postings) == [-2_500, 2_500]
    assert wallet(session, ledger["lena"]) == (10_000, 0, 10_000)
    assert wallet(session, ledger["bo"]) == (0, 0, 0)
    lines = queries.statement(session, services.wallet_code(ledger["lena"])).lines
    assert [line.amount_minor for line in lines] == [2_500, -2_500, 10_000]
    assert [line.balance_after_minor for line in lines] == [10_000, 7_500, 10_000]
    assert journal_reads.entry_with_postings(session, entry.id).reversed_by_entry_id == reversal.id


def test_reverse_twice_is_refused_and_a_replay_returns_the_reversal(session, ledger):
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "deposit"))
    reversal = services.reverse_entry(session, entry.id, reason="chargeback", idempotency_key="r1")
    before = snapshot(session)
    assert (
        services.reverse_entry(session, entry.id, reason="chargeback", idempotency_key="r1").id
        == reversal.id
    )
    with pytest.raises(InvalidState, match="already reversed"):
        services.reverse_entry(session, entry.id, reason="again", idempotency_key="r2")
    with pytest.raises(InvalidState, match="is a reversal"):
        services.reverse_entry(session, reversal.id, reason="undo", idempotency_key="r3")
    with pytest.raises(Conflict):
        services.reverse_entry(session, entry.id, reason="other reason", idempotency_key="r1")
    assert snapshot(session) == before


def test_reversal_cannot_overdraw_a_wallet(session, ledger):
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "deposit"))
    services.transfer(
        session,
        from_code=services.wallet_code(ledger["lena"]),
        to_code=services.wallet_code(ledger["bo"]),
        amount=Money(5_000),
        kind="transfer",
        idempotency_key="spent",
    )
    before = snapshot(session)
    with pytest.raises(InsufficientFunds):
        services.reverse_entry(session, entry.id, reason="chargeback", idempotency_key="r1")
    assert snapshot(session) == before


def test_reversal_needs_a_reason_and_a_known_entry(session, ledger):
    with pytest.raises(ValidationFailed):
        services.reverse_entry(session, 1, reason="  ", idempotency_key="r")
    with pytest.raises(NotFound):
        services.reverse_entry(session, 987654, reason="why", idempotency_key="r")


# --- immutability ---------------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_delete_entries_and_postings(session, ledger):
    session.commit()  # keep the ledger: each refusal below rolls back to here
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "deposit"))
    entry.memo = "rewritten"
    with pytest.raises(ImmutableRecord):
        session.flush()
    session.rollback()

    posting = session.scalar(select(Posting))
    posting.amount_minor = 1
    with pytest.raises(ImmutableRecord):
        session.flush()
    session.rollback()

    session.delete(session.scalar(select(Posting)))
    with pytest.raises(ImmutableRecord):
        session.flush()
    session.rollback()


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE postings SET amount_minor = amount_minor * 2",
        "DELETE FROM postings",
        "UPDATE journal_entries SET memo = 'rewritten'",
        "DELETE FROM journal_entries",
        "TRUNCATE postings",
    ],
)
def test_postgres_triggers_refuse_changes_to_history(session, ledger, statement):
    session.flush()
    with pytest.raises(DBAPIError, match="immutable"), session.begin_nested():
        session.execute(text(statement))


def test_database_checks_refuse_zero_postings_and_negative_wallets(session, ledger):
    entry = session.scalar(select(JournalEntry).where(JournalEntry.kind == "deposit"))
    wallet_id = session.scalar(
        select(Account.id).where(Account.code == services.wallet_code(ledger["lena"]))
    )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text(
                "INSERT INTO postings (entry_id, account_id, amount_minor, currency, "
                "balance_after_minor) VALUES (:e, :a, 0, 'EUR', 0)"
            ),
            {"e": entry.id, "a": wallet_id},
        )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE ledger_accounts SET posted_minor = -1 WHERE id = :a"),
            {"a": wallet_id},
        )
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(
            text("UPDATE ledger_accounts SET held_minor = posted_minor + 1 WHERE id = :a"),
            {"a": wallet_id},
        )


def test_is_postgres_helper_matches_the_engine(session):
    assert (session.get_bind().dialect.name == "postgresql") == is_postgres()
