"""The batch posting path: a batch posts exactly what its entries posted one after another
would (or refuses as they would, writing nothing), replays idempotently, and leaves books
and trust log that the checks find sound."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.audit import sequencer
from p2pbank.audit.models import QueuedLeaf
from p2pbank.errors import Conflict, DomainError, InsufficientFunds, ValidationFailed
from p2pbank.ledger import services
from p2pbank.ledger.batch import NewEntry, post_entries
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.models import Account, JournalEntry, Posting
from p2pbank.ledger.services import PLATFORM_GATEWAY_CLEARING as CLEARING


@pytest.fixture
def wallets(session, make_user, frozen_now):
    """Three wallets holding EUR 10.00, 5.00 and nothing."""
    services.ensure_platform_account(session, CLEARING)
    codes = []
    for minor in (1_000, 500, 0):
        user = make_user()
        code = services.ensure_wallet(session, user.id).code
        if minor:
            services.post_entry(
                session,
                postings=[(CLEARING, -minor), (code, minor)],
                kind="deposit",
                idempotency_key=f"deposit:{code}",
            )
        codes.append(code)
    session.commit()
    return codes


def transfer(source: str, target: str, minor: int, key: str) -> NewEntry:
    return NewEntry(
        postings=[(source, -minor), (target, minor)], kind="transfer", idempotency_key=key
    )


def state(session) -> tuple:
    """Every posting (account, amount, running balance) in order, and every balance."""
    session.expire_all()
    postings = session.execute(
        select(Account.code, Posting.amount_minor, Posting.balance_after_minor)
        .join(Account, Account.id == Posting.account_id)
        .order_by(Posting.id)
    ).all()
    balances = session.execute(
        select(Account.code, Account.posted_minor, Account.held_minor).order_by(Account.code)
    ).all()
    return [tuple(p) for p in postings], [tuple(b) for b in balances]


def one_by_one(session, entries: list[NewEntry]):
    for new in entries:
        services.post_entry(
            session,
            postings=list(new.postings),
            kind=new.kind,
            idempotency_key=new.idempotency_key,
        )


def outcome(session, post) -> tuple:
    """What posting does, then undone: the state after it, or the refusal it raised."""
    nested = session.begin_nested()
    try:
        post()
        session.flush()
        result = ("posted", state(session))
    except DomainError as exc:
        result = ("refused", type(exc), str(exc))
    nested.rollback()
    return result


transfers = st.lists(
    st.tuples(st.integers(0, 2), st.integers(0, 2), st.integers(1, 800)).filter(
        lambda t: t[0] != t[1]
    ),
    min_size=1,
    max_size=12,
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(moves=transfers)
def test_a_batch_posts_what_its_entries_posted_one_by_one_would(session, wallets, moves):
    run = uuid.uuid4().hex
    entries = [
        transfer(wallets[a], wallets[b], minor, f"t:{run}:{n}")
        for n, (a, b, minor) in enumerate(moves)
    ]
    before = state(session)
    single = outcome(session, lambda: one_by_one(session, entries))
    batch = outcome(session, lambda: post_entries(session, entries))
    assert batch == single
    assert state(session) == before  # refused or rolled back: nothing left behind


def test_a_refusal_in_the_middle_writes_nothing(session, wallets):
    entries = [
        transfer(wallets[0], wallets[2], 600, "a"),
        transfer(wallets[2], wallets[1], 600, "b"),
        transfer(wallets[0], wallets[1], 600, "c"),  # only 400 left
    ]
    before = state(session)
    with pytest.raises(InsufficientFunds, match=wallets[0]):
        post_entries(session, entries)
    session.rollback()
    assert state(session) == before


def test_replaying_a_batch_returns_the_same_entries_and_writes_nothing(session, wallets):
    entries = [transfer(wallets[0], wallets[1], 100 + n, f"r:{n}") for n in range(5)]
    first = [entry.id for entry in post_entries(session, entries)]
    session.commit()
    after = state(session)
    again = [entry.id for entry in post_entries(session, entries)]
    session.commit()
    assert again == first
    assert state(session) == after
    mixed = [*entries[:2], transfer(wallets[1], wallets[2], 50, "r:new")]
    ids = [entry.id for entry in post_entries(session, mixed)]
    assert ids[:2] == first[:2] and ids[2] not in first


def test_a_key_used_for_other_content_is_a_conflict(session, wallets):
    post_entries(session, [transfer(wallets[0], wallets[1], 100, "k")])
    session.commit()
    before = state(session)
    with pytest.raises(Conflict, match="'k'"):
        post_entries(session, [transfer(wallets[0], wallets[1], 101, "k")])
    session.rollback()
    assert state(session) == before


def test_bad_batches_are_refused(session, wallets):
    with pytest.raises(ValidationFailed, match="1 to 5000 entries"):
        post_entries(session, [])
    unbalanced = NewEntry([(wallets[0], -1), (wallets[1], 2)], "transfer", "x")
    with pytest.raises(ValidationFailed, match="does not balance"):
        post_entries(session, [transfer(wallets[0], wallets[1], 1, "ok"), unbalanced])


def test_a_key_twice_in_one_batch_is_refused(session, wallets):
    twice = [transfer(wallets[0], wallets[1], 1, "same")] * 2
    with pytest.raises(ValidationFailed, match="once in a batch"):
        post_entries(session, twice)


def test_a_batch_leaves_sound_books_and_a_log_that_owns_every_entry(session, wallets):
    entries = [transfer(wallets[n % 3], wallets[(n + 1) % 3], 7, f"s:{n}") for n in range(60)]
    posted = post_entries(session, entries)
    session.commit()
    assert [e.idempotency_key for e in posted] == [e.idempotency_key for e in entries]
    assert len({e.id for e in posted}) == 60
    queued = session.scalar(
        select(func.count(QueuedLeaf.id)).where(
            QueuedLeaf.event_type == "ledger.entry",
            QueuedLeaf.ref_id.in_([e.id for e in posted]),
        )
    )
    assert queued == 60
    sequencer.integrate_queued(session, clock.now())
    report = check_ledger(session)
    assert report.ok, report.violations
    assert report.entries == session.scalar(select(func.count(JournalEntry.id)))
