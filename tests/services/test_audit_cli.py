"""flask audit-keygen, audit-checkpoint and audit-verify."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from p2pbank.audit import note, queries, services
from p2pbank.audit.keys import signer_for
from tests.support.ledger_tamper import raise_entry_amount
from tests.support.money import deposit


def test_keygen_prints_a_matching_key_pair(app):
    result = app.test_cli_runner().invoke(args=["audit-keygen", "--name", "bank.example/log"])
    assert result.exit_code == 0, result.output
    lines = dict(line.split(": ", 1) for line in result.output.splitlines() if ": " in line)
    signer = note.parse_skey(lines["skey"])
    assert signer.name == "bank.example/log"
    assert signer.verifier == note.parse_vkey(lines["vkey"])


def test_keygen_refuses_a_bad_name(app):
    result = app.test_cli_runner().invoke(args=["audit-keygen", "--name", "has space"])
    assert result.exit_code != 0 and "without spaces" in result.output


def test_checkpoint_signs_now_and_prints_the_note(app, session):
    for i in range(3):
        services.append(session, type="test.event", subject_user_id=None, payload={"i": i})
    result = app.test_cli_runner().invoke(args=["audit-checkpoint"])
    assert result.exit_code == 0, result.output
    verifier = signer_for(app.config).verifier
    checkpoint = note.open_checkpoint(result.output, verifier)
    assert checkpoint.size == 3
    assert queries.latest_checkpoint(session).tree_size == 3


def test_verify_passes_then_names_a_tampered_entry(app, session):
    for i in range(6):
        services.append(session, type="test.event", subject_user_id=i, payload={"i": i})
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit-checkpoint"]).exit_code == 0
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert result.output.rstrip().endswith("RESULT: OK")

    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
    session.execute(
        text("UPDATE audit_leaves SET data = :d WHERE sequence = 4"),
        {"d": bytes(queries.get_entry(session, 4).data).replace(b'"i":4', b'"i":40')},
    )
    session.expire_all()
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert result.output.rstrip().endswith("RESULT: FAILED - first bad index 4")


def test_verify_without_any_checkpoint_fails(app):
    result = app.test_cli_runner().invoke(args=["audit-verify"])
    assert result.exit_code == 1
    assert "no checkpoint has been signed yet" in result.output


def test_the_daily_job_signs_a_checkpoint_covering_the_day(app, session):
    for i in range(2):
        services.append(session, type="test.event", subject_user_id=None, payload={"i": i})
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tick"])
    assert result.exit_code == 0, result.output
    assert "audit.checkpoints_signed 1" in result.output
    assert queries.latest_checkpoint(session).tree_size == queries.head_size(session)
    services.append(session, type="test.event", subject_user_id=None, payload={"i": 2})
    assert runner.invoke(args=["tick"]).exit_code == 0
    assert queries.latest_checkpoint(session).tree_size == queries.head_size(session)


@pytest.mark.parametrize("position", [0, 1, -1])
def test_verify_names_a_thoroughly_rewritten_journal_entry(app, session, make_user, position):
    # Review finding 1: the entry's amount raised on both postings, balances and its
    # content_hash recomputed; audit-verify recomputes each entry and compares the leaf.
    people = [make_user().id for _ in range(3)]
    ids = [
        deposit(session, people[n], 10_000, key=f"deposit:{n}", commit=False).id for n in range(3)
    ]
    session.flush()
    runner = app.test_cli_runner()
    assert runner.invoke(args=["audit-checkpoint"]).exit_code == 0
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 0, result.output
    assert "journal: 3 entries recomputed against 3 ledger.entry leaves: 0 differ" in result.output

    victim = ids[position]
    raise_entry_amount(session, victim, 900_000)
    result = runner.invoke(args=["audit-verify"])
    assert result.exit_code == 1, result.output
    assert f"PROBLEM journal entry {victim} (log entry " in result.output
    assert result.output.rstrip().endswith(f"RESULT: FAILED - first bad journal entry {victim}")
