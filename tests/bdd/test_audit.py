"""Step code for features/trust/auditor_verifies_log.feature: the auditor's verifier.

The verifier runs exactly as `python -m p2pbank.audit.verify` does (same code, same JSON
parsing, a state file), with its HTTP transport going through the scenario's app instead
of a socket, so it sees the scenario's database. The live-server run over real HTTP is in
tests/api/test_audit_verifier.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from p2pbank.audit import queries, services, verify
from p2pbank.audit.keys import signer_for
from p2pbank.audit.verify_journal import JournalSource
from tests.support.audit import tamper
from tests.support.ledger_tamper import raise_entry_amount
from tests.support.stories import phrase

scenarios("trust/auditor_verifies_log.feature")


@dataclass
class Auditor:
    state: Path
    runs: list[tuple[int, list[str]]] = field(default_factory=list)

    @property
    def last(self) -> tuple[int, list[str]]:
        assert self.runs, "the verifier has not run yet"
        return self.runs[-1]


@pytest.fixture
def auditor_tool(tmp_path) -> Auditor:
    return Auditor(state=tmp_path / "auditor-state.json")


def _run_verifier(story, auditor_tool: Auditor, with_key: bool, token: str | None = None) -> None:
    client = story.app.test_client()

    def fetch(url: str, _timeout: float) -> bytes:
        parts = urlsplit(url)
        response = client.get(parts.path + ("?" + parts.query if parts.query else ""))
        if response.status_code != 200:
            raise verify.SourceError(f"HTTP {response.status_code} from {url}")
        return response.get_data()

    def fetch_with_token(url: str, _timeout: float, headers: dict) -> bytes:
        parts = urlsplit(url)
        response = client.get(parts.path + "?" + parts.query, headers=headers)
        if response.status_code != 200:
            raise verify.SourceError(f"HTTP {response.status_code} from {url}")
        return response.get_data()

    source = verify.HttpSource("http://platform.test", fetch=fetch)
    journal = (
        JournalSource("http://platform.test", token, fetch=fetch_with_token) if token else None
    )
    key = signer_for(story.app.config).verifier.vkey if with_key else None
    auditor_tool.runs.append(
        verify.run(source, key=key, state_path=auditor_tool.state, journal=journal)
    )


@given("the platform has signed a checkpoint of the trust log")
def _platform_signs(story, session):
    signer = signer_for(story.app.config)
    services.sign_checkpoint(session, signer, signer.name)


@given(parsers.parse("{name} has verified the trust log once"))
def _has_verified(story, auditor_tool, name):
    _run_verifier(story, auditor_tool, with_key=True)
    assert auditor_tool.last[0] == 0, auditor_tool.last[1]


@when(parsers.parse("{name} verifies the trust log with the platform's public key"))
def _verifies_with_key(story, auditor_tool, name):
    _run_verifier(story, auditor_tool, with_key=True)


@when(parsers.parse("{name} verifies the trust log again"))
def _verifies_again(story, auditor_tool, name):
    _run_verifier(story, auditor_tool, with_key=False)  # the key pinned in the state file


@when(parsers.parse("someone with database access changes trust log entry {index:d}"))
def _changes_entry(session, index):
    data = bytes(queries.get_entry(session, index).data)
    forged = data.replace(b'"payload":{', b'"payload":{"forged":true,', 1)
    assert forged != data
    tamper(session, "UPDATE audit_leaves SET data = :d WHERE sequence = :s", d=forged, s=index)


@when(parsers.parse("{name} checks the inclusion proof of trust log entry {index:d}"))
def _checks_proof(story, session, name, index):
    size = queries.latest_checkpoint(session).tree_size
    browser = story.browser(name)
    story.remember(name, browser.submit("/audit/proof", {"index": index, "size": size}))


@then("the verifier says the log holds")
def _log_holds(auditor_tool):
    status, lines = auditor_tool.last
    assert status == 0, lines
    assert "RESULT: OK" in lines


@then(parsers.parse("the verifier says the new log extends the one {name} verified before"))
def _log_extends(auditor_tool, name):
    first, second = auditor_tool.runs[-2][1], auditor_tool.runs[-1][1]
    (checked,) = [line for line in first if line.startswith("checkpoint:")]
    size = int(re.search(r", (\d+) entries,", checked).group(1))
    assert f"consistency with the checkpoint of {size} entries seen before: OK" in second


@then(parsers.parse("the verifier fails and names entry {index:d} as the first bad entry"))
def _names_entry(auditor_tool, index):
    status, lines = auditor_tool.last
    assert status == 1, lines
    assert lines[-1] == f"RESULT: FAILED - first bad index {index}"


# --- journal entries against their leaves, and rewritten stored hashes -------------------


def _last_entry_of(session, user_id: int) -> int:
    from sqlalchemy import select

    from p2pbank.ledger.models import Account, JournalEntry, Posting
    from p2pbank.ledger.services import wallet_code

    return session.scalar(
        select(JournalEntry.id)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .join(Account, Account.id == Posting.account_id)
        .where(Account.code == wallet_code(user_id))
        .order_by(JournalEntry.id.desc())
        .limit(1)
    )


@when(
    phrase(
        "someone with database access raises {name:Name}'s deposit by EUR {amount:Amount}, "
        "balances and hash included"
    )
)
def _raises_deposit(story, session, name, amount):
    entry_id = _last_entry_of(session, story.person(name).id)
    story.note(name)["deposit"] = entry_id
    raise_entry_amount(session, entry_id, amount)


@when(phrase("{name:Name} verifies the trust log and the journal with her API token"))
def _verifies_with_token(story, auditor_tool, name):
    token = story.tokens[name]["Authorization"].removeprefix("Bearer ")
    _run_verifier(story, auditor_tool, with_key=True, token=token)


@when(
    parsers.parse(
        "someone with database access rewrites trust log entry {index:d} and its stored hash"
    )
)
def _rewrites_row(session, index):
    from p2pbank.audit.merkle import leaf_hash

    data = bytes(queries.get_entry(session, index).data)
    forged = data.replace(b'"payload":{', b'"payload":{"forged":true,', 1)
    assert forged != data
    tamper(
        session,
        "UPDATE audit_leaves SET data = :d, leaf_hash = :h WHERE sequence = :s",
        d=forged,
        h=leaf_hash(forged),
        s=index,
    )


@then(phrase("the verifier fails and names {name:Name}'s deposit as the first bad journal entry"))
def _names_journal_entry(story, auditor_tool, name):
    status, lines = auditor_tool.last
    entry_id = story.note(name)["deposit"]
    assert status == 1, lines
    assert lines[-1] == f"RESULT: FAILED - first bad journal entry {entry_id}"


@then(
    phrase(
        "the ledger check names {name:Name}'s deposit as the first entry that differs "
        "from the trust log"
    )
)
def _ledger_check_names(story, session, name):
    from p2pbank.ledger.checks import check_ledger

    report = check_ledger(session)
    assert report.first_entry_unlike_log == story.note(name)["deposit"], report.violations
