"""The trust log against the real database: appends, stored tree, proofs, checkpoints,
append-only storage and tamper detection."""

from __future__ import annotations

import json
import secrets
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, make_url, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import sessionmaker

from p2pbank.audit import merkle, note, queries, services
from p2pbank.audit.keys import derive_pseudonym_key, session_info
from p2pbank.audit.models import (
    AppendOnlyViolation,
    LogHead,
    LogLeaf,
    LogNode,
    SignedCheckpoint,
)
from p2pbank.db import Base, make_engine
from p2pbank.errors import InvalidState, ValidationFailed
from tests.support.audit import ORIGIN, SIGNER, tamper
from tests.support.database import TEST_SECRET


def fill(session, count: int, event_type: str = "test.event", subject=None) -> list[LogLeaf]:
    return [
        services.append(session, type=event_type, subject_user_id=subject, payload={"n": i})
        for i in range(count)
    ]


def hashes_of(session) -> list[bytes]:
    rows = session.execute(select(LogLeaf.leaf_hash).order_by(LogLeaf.sequence))
    return [bytes(h) for (h,) in rows]


# --- append -----------------------------------------------------------------------------


def test_append_numbers_entries_and_stores_their_canonical_json(session, frozen_now):
    first = services.append(session, type="test.event", subject_user_id=None, payload={"b": 1})
    second = services.append(
        session, type="test.other", subject_user_id=7, payload={"z": [1, "x"], "a": None}
    )
    assert (first.sequence, second.sequence) == (0, 1)
    assert bytes(first.data) == (
        b'{"payload":{"b":1},"sequence":0,"subject":null,'
        b'"time":"2026-11-02T09:00:00.000000Z","type":"test.event"}'
    )
    assert bytes(first.leaf_hash) == merkle.leaf_hash(bytes(first.data))
    document = json.loads(bytes(second.data))
    assert document["payload"] == {"a": None, "z": [1, "x"]}
    assert second.recorded_at == frozen_now
    assert queries.head_size(session) == 2


def test_the_subject_is_a_keyed_pseudonym_never_the_user_id(session, make_user):
    user = make_user(email="pseudo@example.test", name="Pia Pseudonym")
    leaf = services.append(session, type="test.event", subject_user_id=user.id, payload={})
    expected = services.pseudonym_for_key(derive_pseudonym_key(TEST_SECRET), user.id)
    assert leaf.subject == expected == services.pseudonym(session, user.id)
    assert len(expected) == 32 and int(expected, 16) >= 0
    assert services.pseudonym_for_key(derive_pseudonym_key("another key"), user.id) != expected
    data = bytes(leaf.data).decode()
    assert "pseudo@example.test" not in data and "Pia" not in data
    assert f'"subject":"{expected}"' in data


def test_a_session_without_the_pseudonym_key_cannot_name_a_subject(connection):
    bare = sessionmaker(bind=connection, join_transaction_mode="create_savepoint")()
    try:
        with pytest.raises(services.PseudonymKeyMissing):
            services.append(bare, type="test.event", subject_user_id=1, payload={})
        # platform events need no key
        assert services.append(bare, type="test.event", subject_user_id=None, payload={})
    finally:
        bare.close()


@pytest.mark.parametrize(
    ("event_type", "payload", "message"),
    [
        ("Kyc.Verified", {}, "event type"),
        ("nodot", {}, "event type"),
        ("a." + "b" * 70, {}, "event type"),
        ("test.event", {"rate": 0.5}, "floats"),
        ("test.event", {"nested": [{"deep": 1.0}]}, "floats"),
        ("test.event", {"big": 2**53}, "integers"),
        ("test.event", {1: "x"}, "keys"),
        ("test.event", {"when": datetime(2026, 1, 1, tzinfo=UTC)}, "not JSON"),
        ("test.event", {"text": "x" * 9000}, "at most"),
    ],
)
def test_append_refuses_what_the_log_cannot_hold(session, event_type, payload, message):
    with pytest.raises(ValidationFailed, match=message):
        services.append(session, type=event_type, subject_user_id=None, payload=payload)
    assert queries.head_size(session) == 0


def test_append_joins_the_callers_transaction(session):
    fill(session, 3)
    session.commit()
    fill(session, 2)
    session.rollback()  # the caller's command failed: its leaves go with it
    assert queries.head_size(session) == 3
    assert session.scalar(select(func.count()).select_from(LogLeaf)) == 3
    assert (
        services.append(session, type="test.event", subject_user_id=None, payload={}).sequence == 3
    )


# --- the stored tree and proofs ---------------------------------------------------------


def test_roots_and_proofs_from_storage_are_rfc9162_at_every_size(session):
    fill(session, 33)
    leaves = hashes_of(session)
    for size in range(0, 34):
        assert queries.tree_root(session, size) == merkle.root_from_leaf_hashes(leaves[:size])
    for size in range(1, 34):
        root = merkle.root_from_leaf_hashes(leaves[:size])
        for index in range(size):
            proof = queries.inclusion(session, index, size)
            assert proof.path == merkle.inclusion_proof(leaves, index, size)
            assert proof.leaf_hash == leaves[index] and proof.root_hash == root
            assert merkle.verify_inclusion(leaves[index], index, size, proof.path, root)
            if proof.path:
                shorter = proof.path[:-1]
                assert not merkle.verify_inclusion(leaves[index], index, size, shorter, root)
        for old in range(0, size + 1):
            proof = queries.consistency(session, old, size)
            assert proof.path == merkle.consistency_proof(leaves, old, size)
            assert merkle.verify_consistency(old, size, proof.old_root, proof.new_root, proof.path)


def test_only_perfect_subtrees_are_stored_once_each(session):
    count = 45
    fill(session, count)
    leaves = hashes_of(session)
    nodes = session.execute(select(LogNode.level, LogNode.node_index, LogNode.hash)).all()
    assert len(nodes) == count - count.bit_count()  # a perfect binary forest's inner nodes
    for level, index, value in nodes:
        start = index << level
        assert bytes(value) == merkle.root_from_leaf_hashes(leaves[start : start + (1 << level)])
    head = session.get(LogHead, 1)
    assert head.size == count
    assert merkle.CompactRange(count, head.roots).root() == merkle.root_from_leaf_hashes(leaves)


def test_a_proof_reads_the_store_in_at_most_three_statements(session):
    fill(session, 300)
    statements: list[str] = []

    def count(_conn, _cursor, statement, *_args):
        statements.append(statement)

    engine = session.get_bind().engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        queries.inclusion(session, 137, 300)
        inclusion_statements = len(statements)
        statements.clear()
        queries.consistency(session, 100, 300)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    # the size check, the leaf hashes, the stored nodes (this consistency proof needs no
    # single-leaf node, so no leaf hashes)
    assert inclusion_statements == 3 and len(statements) == 2


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda s: queries.inclusion(s, 5, 5), "index"),
        (lambda s: queries.inclusion(s, 0, 6), "size"),
        (lambda s: queries.consistency(s, 3, 6), "new"),
        (lambda s: queries.consistency(s, 4, 3), "old"),
        (lambda s: queries.entries(s, -1, 3), "start"),
        (lambda s: queries.entries(s, 3, 2), "end"),
    ],
)
def test_proofs_outside_the_log_are_refused(session, call, field):
    fill(session, 5)
    with pytest.raises(ValidationFailed) as refused:
        call(session)
    assert field in refused.value.field_errors


def test_entries_are_served_in_order_and_clipped(session):
    fill(session, 12)
    assert [leaf.sequence for leaf in queries.entries(session, 3, 7)] == [3, 4, 5, 6]
    assert [leaf.sequence for leaf in queries.entries(session, 10, 50)] == [10, 11]
    assert queries.entries(session, 12, 20) == []


def test_the_explorer_filters_by_pseudonym_and_type_and_pages(session):
    for i in range(7):
        services.append(
            session,
            type="test.even" if i % 2 == 0 else "test.odd",
            subject_user_id=i % 3,
            payload={},
        )
    page = queries.explore(session, event_type="test.even", per_page=2)
    assert [leaf.sequence for leaf in page.leaves] == [6, 4]
    assert page.newer is None and page.older == 4
    page = queries.explore(session, event_type="test.even", before=page.older, per_page=2)
    assert [leaf.sequence for leaf in page.leaves] == [2, 0]
    assert page.older is None and page.newer == 2
    page = queries.explore(session, event_type="test.even", after=page.newer, per_page=2)
    assert [leaf.sequence for leaf in page.leaves] == [6, 4]
    subject = services.pseudonym(session, 1)
    assert [leaf.sequence for leaf in queries.explore(session, subject=subject).leaves] == [4, 1]


# --- checkpoints ------------------------------------------------------------------------


def test_a_signed_checkpoint_verifies_with_the_public_key(session):
    fill(session, 9)
    checkpoint = services.sign_checkpoint(session, SIGNER, ORIGIN)
    opened = note.open_checkpoint(checkpoint.note, note.parse_vkey(SIGNER.verifier.vkey), ORIGIN)
    assert (opened.size, opened.root_hash) == (9, merkle.root_from_leaf_hashes(hashes_of(session)))
    assert checkpoint.key_id == SIGNER.key_id.hex() and checkpoint.key_name == ORIGIN
    # a changed byte anywhere in the signed text fails
    text_part = checkpoint.note.split("\n\n")[0]
    for i in range(len(text_part)):
        changed = (
            checkpoint.note[:i] + chr(ord(checkpoint.note[i]) ^ 0x02) + checkpoint.note[i + 1 :]
        )
        with pytest.raises(note.NoteError):
            note.open_checkpoint(changed, SIGNER.verifier, ORIGIN)


def test_signing_the_same_size_twice_keeps_one_checkpoint(session):
    fill(session, 4)
    first = services.sign_checkpoint(session, SIGNER, ORIGIN)
    again = services.sign_checkpoint(session, SIGNER, ORIGIN)
    assert again.id == first.id
    fill(session, 1)
    later = services.sign_checkpoint(session, SIGNER, ORIGIN)
    assert later.tree_size == 5 and later.id != first.id
    assert queries.latest_checkpoint(session, key_id=SIGNER.key_id.hex()).id == later.id
    rows, total = queries.checkpoint_history(session)
    assert total == 2 and [r.tree_size for r in rows] == [5, 4]


def test_the_empty_log_can_be_signed(session):
    checkpoint = services.sign_checkpoint(session, SIGNER, ORIGIN)
    assert checkpoint.tree_size == 0 and checkpoint.root_hash == merkle.EMPTY_ROOT


def test_nothing_is_signed_when_the_stored_tree_disagrees_with_the_head(session):
    fill(session, 8)
    tamper(
        session, "UPDATE audit_nodes SET hash = :h WHERE level = 3 AND node_index = 0", h=bytes(32)
    )
    with pytest.raises(InvalidState, match="disagree"):
        services.sign_checkpoint(session, SIGNER, ORIGIN)


def test_a_bad_origin_is_refused(session):
    with pytest.raises(ValidationFailed):
        services.sign_checkpoint(session, SIGNER, "two\nlines")


# --- append-only ------------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_delete_log_rows(session):
    (leaf,) = fill(session, 1)
    checkpoint = services.sign_checkpoint(session, SIGNER, ORIGIN)
    leaf.event_type = "test.changed"
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.delete(session.get(LogLeaf, 0))
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.delete(session.get(SignedCheckpoint, checkpoint.id))
    with pytest.raises(AppendOnlyViolation):
        session.flush()
    session.rollback()
    session.delete(session.get(LogHead, 1))
    with pytest.raises(AppendOnlyViolation):
        session.flush()


@pytest.mark.postgres_only
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_leaves SET event_type = 'test.changed'",
        "DELETE FROM audit_leaves",
        "UPDATE audit_nodes SET hash = hash",
        "DELETE FROM audit_nodes",
        "UPDATE audit_checkpoints SET note = ''",
        "DELETE FROM audit_checkpoints",
        "DELETE FROM audit_log_head",
        "UPDATE audit_log_head SET size = size - 1",
        "TRUNCATE audit_leaves",
        "TRUNCATE audit_log_head",
        "UPDATE audit_leaf_signatures SET signature = signature",
        "DELETE FROM audit_leaf_signatures",
        "TRUNCATE audit_leaf_signatures",
    ],
)
def test_postgres_triggers_refuse_changes_to_the_log(session, statement):
    fill(session, 4)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    with pytest.raises(DBAPIError, match="audit log"), session.begin_nested():
        session.execute(text(statement))


# --- tampering --------------------------------------------------------------------------


def test_verify_database_passes_on_an_honest_log(session):
    fill(session, 20, subject=3)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    fill(session, 5)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    report = queries.verify_database(session, SIGNER.verifier)
    assert report.ok, report.summary()
    assert report.proofs_checked == 25 + 1  # all inclusion proofs, one checkpoint pair


@pytest.mark.parametrize("bad", [0, 6, 19])
def test_a_changed_entry_is_named_by_its_index(session, bad):
    fill(session, 20)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    forged = bytes(session.get(LogLeaf, bad).data).replace(b'"n":', b'"N":')
    tamper(session, "UPDATE audit_leaves SET data = :d WHERE sequence = :s", d=forged, s=bad)
    report = queries.verify_database(session, SIGNER.verifier)
    assert not report.ok
    assert report.first_bad_index == bad
    assert report.summary()[-1] == f"RESULT: FAILED - first bad index {bad}"


def test_a_changed_node_is_named_by_the_first_entry_it_covers(session):
    fill(session, 20)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    tamper(
        session, "UPDATE audit_nodes SET hash = :h WHERE level = 2 AND node_index = 3", h=bytes(32)
    )
    report = queries.verify_database(session, SIGNER.verifier)
    assert not report.ok
    assert report.first_bad_index == 12
    messages = [p.message for p in report.problems]
    assert "stored node for entries [12, 16) is wrong" in messages


def test_a_removed_node_and_a_wrong_head_are_found(session):
    fill(session, 10)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    tamper(session, "DELETE FROM audit_nodes WHERE level = 1 AND node_index = 2")
    tamper(session, "UPDATE audit_log_head SET frontier = :f", f=bytes(64))
    problems = [p.message for p in queries.check_storage(session)]
    assert "stored node for entries [4, 6) is missing" in problems
    assert "7 nodes stored, 8 expected" in problems
    assert "the log head's compact range differs from the stored leaves" in problems


def test_check_storage_is_quiet_on_an_honest_log_across_batches(session):
    fill(session, 37)
    assert queries.check_storage(session, batch=5) == []


# --- concurrency (PostgreSQL, real transactions in a database of their own) --------------


@pytest.fixture
def own_postgres_database(database_url):
    base = make_url(database_url)
    name = f"{base.database}_audit_{secrets.token_hex(3)}"
    admin = make_engine(
        base.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    Base.metadata.create_all(engine)
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.mark.postgres_only
def test_concurrent_appends_never_collide(own_postgres_database):
    make_session = sessionmaker(
        bind=own_postgres_database, info=session_info(derive_pseudonym_key(TEST_SECRET))
    )
    workers, each = 8, 25
    errors: list[BaseException] = []
    start = threading.Barrier(workers)

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(each):
                with make_session() as s:
                    services.append(s, type="test.event", subject_user_id=worker, payload={"i": i})
                    s.commit()
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with make_session() as s:
        sequences = s.scalars(select(LogLeaf.sequence).order_by(LogLeaf.sequence)).all()
        assert sequences == list(range(workers * each))
        assert queries.check_storage(s) == []
        checkpoint = services.sign_checkpoint(s, SIGNER, ORIGIN)
        assert queries.verify_database(s, SIGNER.verifier).ok
        assert checkpoint.tree_size == workers * each


# --- naming the first bad entry exactly (review finding 15) -----------------------------


def rewrite_row(session, sequence: int) -> None:
    """The reviewer's attack: an entry's data and its stored leaf hash rewritten together."""
    forged = bytes(session.get(LogLeaf, sequence).data).replace(b'"n":', b'"N":')
    tamper(
        session,
        "UPDATE audit_leaves SET data = :d, leaf_hash = :h WHERE sequence = :s",
        d=forged,
        h=merkle.leaf_hash(forged),
        s=sequence,
    )


def rewrite_tree(session) -> None:
    """... and then every node above it and the log head, so storage agrees with itself."""
    compact = merkle.CompactRange()
    for digest in hashes_of(session):
        for level, index, value in compact.append(digest)[1:]:
            tamper(
                session,
                "UPDATE audit_nodes SET hash = :h WHERE level = :l AND node_index = :i",
                h=value,
                l=level,
                i=index,
            )
    tamper(session, "UPDATE audit_log_head SET frontier = :f", f=b"".join(compact.roots))


@pytest.mark.parametrize("thorough", [False, True])
@pytest.mark.parametrize("bad", [0, 5, 6, 11])
def test_a_rewritten_entry_is_named_exactly_never_a_neighbour(session, bad, thorough):
    # Before: 0 from the nodes above it, 4 from the binary search, for a rewritten entry 5.
    fill(session, 12)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    rewrite_row(session, bad)
    if thorough:
        rewrite_tree(session)
        assert queries.check_storage(session) == []  # storage agrees with itself
    report = queries.verify_database(session, SIGNER.verifier)
    assert report.first_bad_index == bad, report.summary()
    assert report.summary()[-1] == f"RESULT: FAILED - first bad index {bad}"


def test_every_entry_a_checkpoint_covers_carries_its_own_signature(session):
    from p2pbank.audit.leaf_signatures import leaf_verdict
    from p2pbank.audit.leaf_signing import signatures

    fill(session, 5)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    fill(session, 2)
    key_id = SIGNER.key_id.hex()
    assert sorted(signatures(session, 0, 10, key_id)) == [0, 1, 2, 3, 4]
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    signed = signatures(session, 0, 10, key_id)
    assert sorted(signed) == list(range(7))
    stored = hashes_of(session)
    assert all(leaf_verdict(SIGNER.verifier, ORIGIN, i, stored[i], signed[i]) for i in range(7))
    assert not leaf_verdict(SIGNER.verifier, ORIGIN, 1, stored[0], signed[1])


def test_an_entry_whose_data_no_longer_matches_is_not_signed(session):
    fill(session, 3)
    forged = bytes(session.get(LogLeaf, 1).data).replace(b'"n":', b'"N":')
    tamper(session, "UPDATE audit_leaves SET data = :d WHERE sequence = 1", d=forged)
    with pytest.raises(InvalidState, match="entry 1's data does not match"):
        services.sign_checkpoint(session, SIGNER, ORIGIN)


def test_the_newest_entry_past_the_checkpoint_is_named_or_declared_unprovable(session):
    fill(session, 12)
    services.sign_checkpoint(session, SIGNER, ORIGIN)
    fill(session, 1)  # entry 12: in no checkpoint yet
    rewrite_row(session, 12)  # data and leaf hash: the log head still holds the old hash
    report = queries.verify_database(session, SIGNER.verifier)
    assert report.summary()[-1] == "RESULT: FAILED - first bad index 12"

    rewrite_tree(session)  # head too: nothing signed or stored tells any more
    report = queries.verify_database(session, SIGNER.verifier)
    assert report.ok
    assert any(
        line.startswith("entries 12..12: past the signed checkpoint") for line in report.lines
    )
    assert "provable once a checkpoint covers them" in report.lines[-1]
