"""The independent verifier end to end: `python -m p2pbank.audit.verify` over real HTTP
against a live server with real committed data in its own fresh SQLite database."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import text
from werkzeug.serving import make_server

from p2pbank import clock
from p2pbank.app import create_app
from p2pbank.audit import sequencer, services, verify
from p2pbank.audit.keys import signer_for
from p2pbank.config import Config
from p2pbank.db import Base
from p2pbank.identity import services as identity
from p2pbank.models import load_all
from tests.support.database import TEST_SECRET
from tests.support.ledger_tamper import raise_entry_amount
from tests.support.money import deposit
from tests.support.people import STRONG_PASSWORD, member


class Platform:
    """A running platform: app, its own database, a server on 127.0.0.1."""

    def __init__(self, folder: Path) -> None:
        config = Config(
            ENV="testing",
            SECRET_KEY=TEST_SECRET,
            DATABASE_URL=f"sqlite:///{folder / 'live.sqlite3'}",
            INSTANCE_PATH=str(folder / "instance"),
            TESTING=True,
        ).finish()
        self.app = create_app(config)
        load_all()
        self.engine = self.app.extensions["p2pbank.engine"]
        Base.metadata.create_all(self.engine)
        self.signer = signer_for(self.app.config)
        self.server = make_server("127.0.0.1", 0, self.app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.people = 0

    def session(self):
        return self.app.extensions["p2pbank.sessionmaker"]()

    def members(self, count: int, start: int = 0) -> None:
        with self.session() as s:
            for n in range(start, start + count):
                member(s, f"Member {n}", ["lender"], email=f"member{n}@example.test")

    def events(self, count: int) -> None:
        with self.session() as s:
            for i in range(count):
                services.append(s, type="test.platform", subject_user_id=None, payload={"i": i})
            s.commit()

    def deposits(self, count: int) -> list[int]:
        """`count` new members, each with an opening deposit: journal entries and leaves."""
        ids = []
        with self.session() as s:
            for _ in range(count):
                self.people += 1
                user = member(
                    s,
                    f"Saver {self.people}",
                    ["lender"],
                    email=f"saver{self.people}@example.test",
                    kyc="unverified",
                )
                entry = deposit(s, user.id, 10_000, key=f"deposit:{self.people}")
                ids.append(entry.id)
            sequencer.integrate_queued(s, clock.now())  # as it runs every second
        return ids

    def auditor_token(self, role: str = "auditor") -> str:
        """An API token of a new auditor (with the two-factor sign-in auditors must have)."""
        from p2pbank import clock
        from p2pbank.identity import twofactor, twofactor_services

        with self.session() as s:
            user = identity.sign_up(
                s,
                email=f"{role}@example.test",
                display_name=role.title(),
                password=STRONG_PASSWORD,
                roles=[],
            )
            identity.grant_role(s, None, user.id, role, "test")
            secret = twofactor_services.start_enrolment(s, user.id)
            twofactor_services.confirm_enrolment(s, user.id, twofactor.code_at(secret, clock.now()))
            _row, token = identity.create_api_token(s, user.id, name="verifier", scope="read")
            return token

    def sign(self) -> int:
        with self.session() as s:
            return services.sign_checkpoint(s, self.signer, self.signer.name).tree_size

    def tamper(self, sql: str, **params) -> None:
        with self.engine.begin() as conn:
            conn.execute(text(sql), params)

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()
        self.engine.dispose()


@pytest.fixture
def platform(tmp_path):
    live = Platform(tmp_path)
    try:
        yield live
    finally:
        live.stop()


def run_verifier(capsys, *args: str) -> tuple[int, str]:
    status = verify.main(list(args))
    return status, capsys.readouterr().out


def test_an_auditor_verifies_the_log_and_later_its_growth(platform, tmp_path, capsys):
    platform.members(3)  # role.granted and kyc.verified events
    platform.events(4)
    size = platform.sign()
    state = tmp_path / "auditor-state.json"
    vkey = platform.signer.verifier.vkey

    status, out = run_verifier(capsys, "--url", platform.url, "--state", str(state), "--key", vkey)
    assert status == 0, out
    assert f"checkpoint: {platform.signer.name}, {size} entries" in out
    assert f"entries: {size} downloaded; leaf hashes and root recomputed: OK" in out
    assert "3 members" in out and "0 differences" in out
    assert out.rstrip().endswith(f"state saved to {state}")
    saved = json.loads(state.read_text())
    assert saved["size"] == size and saved["vkey"] == vkey
    assert (tmp_path / "auditor-state.json.leaves").stat().st_size == 32 * size

    platform.members(2, start=3)
    grown = platform.sign()
    status, out = run_verifier(capsys, "--url", platform.url, "--state", str(state))
    assert status == 0, out
    assert f"consistency with the checkpoint of {size} entries seen before: OK" in out
    assert json.loads(state.read_text())["size"] == grown


def test_the_verifier_catches_a_tampered_entry_and_names_it(platform, tmp_path, capsys):
    platform.members(2)
    platform.events(10)
    platform.sign()
    state = tmp_path / "state.json"
    vkey = platform.signer.verifier.vkey
    assert run_verifier(capsys, "--url", platform.url, "--state", str(state), "--key", vkey)[0] == 0

    with platform.session() as s:
        forged = bytes(s.get(services.LogLeaf, 9).data).replace(b'"i":5', b'"i":50')
    platform.tamper("UPDATE audit_leaves SET data = :d WHERE sequence = 9", d=forged)
    status, out = run_verifier(capsys, "--url", platform.url, "--state", str(state))
    assert status == 1, out
    assert "[entry 9] the stored leaf hash differs from the entry's data" in out
    assert out.rstrip().endswith("RESULT: FAILED - first bad index 9")
    assert json.loads(state.read_text())["size"] == 14  # a failed run never moves the state


def test_a_thorough_rewrite_is_named_exactly_with_the_saved_leaf_hashes(platform, tmp_path, capsys):
    platform.events(12)
    platform.sign()
    state = tmp_path / "state.json"
    vkey = platform.signer.verifier.vkey
    assert run_verifier(capsys, "--url", platform.url, "--state", str(state), "--key", vkey)[0] == 0
    # Rewrite entry 5 and every hash above it, then sign the rewritten log with the real key:
    # the signature is fine, only the auditor's memory of the log can tell.
    from p2pbank.audit import merkle

    with platform.session() as s:
        forged = bytes(s.get(services.LogLeaf, 5).data).replace(b'"i":5', b'"i":55')
    platform.tamper(
        "UPDATE audit_leaves SET data = :d, leaf_hash = :h WHERE sequence = 5",
        d=forged,
        h=merkle.leaf_hash(forged),
    )
    with platform.engine.connect() as conn:
        hashes = [
            bytes(h)
            for (h,) in conn.execute(text("SELECT leaf_hash FROM audit_leaves ORDER BY sequence"))
        ]
    compact = merkle.CompactRange()
    for digest in hashes:
        for level, index, value in compact.append(digest)[1:]:
            platform.tamper(
                "UPDATE audit_nodes SET hash = :h WHERE level = :l AND node_index = :i",
                h=value,
                l=level,
                i=index,
            )
    platform.tamper("UPDATE audit_log_head SET frontier = :f", f=b"".join(compact.roots))
    platform.events(1)
    platform.sign()

    status, out = run_verifier(capsys, "--url", platform.url, "--state", str(state))
    assert status == 1, out
    assert "changed since the checkpoint of 12 entries" in out
    assert out.rstrip().endswith("RESULT: FAILED - first bad index 5")


def test_a_tampered_node_is_caught_by_the_proofs(platform, tmp_path, capsys):
    platform.events(16)
    platform.sign()
    platform.tamper(
        "UPDATE audit_nodes SET hash = :h WHERE level = 2 AND node_index = 2", h=bytes(32)
    )
    status, out = run_verifier(
        capsys, "--url", platform.url, "--key", platform.signer.verifier.vkey
    )
    assert status == 1, out
    assert "the log's stored hash of entries [8, 12) is wrong" in out
    assert out.rstrip().endswith("RESULT: FAILED - first bad index 8")


def test_the_wrong_key_or_a_changed_key_fails(platform, tmp_path, capsys):
    from p2pbank.audit.note import generate_signer

    platform.events(3)
    platform.sign()
    stranger = generate_signer(platform.signer.name).verifier.vkey
    status, out = run_verifier(capsys, "--url", platform.url, "--key", stranger)
    assert status == 1 and "no signature by" in out

    state = tmp_path / "state.json"
    status, out = run_verifier(capsys, "--url", platform.url, "--state", str(state))
    assert status == 0 and "WARNING trusting the key the log publishes on first use" in out
    status, out = run_verifier(
        capsys, "--url", platform.url, "--state", str(state), "--key", stranger
    )
    assert status == 1 and "the key differs from the one in the state file" in out


def test_the_key_can_come_from_a_file(platform, tmp_path, capsys):
    platform.events(2)
    platform.sign()
    key_file = tmp_path / "log.vkey"
    key_file.write_text(platform.signer.verifier.vkey + "\n")
    assert run_verifier(capsys, "--url", platform.url, "--key", str(key_file))[0] == 0


def test_an_unreachable_or_unsigned_log_exits_2(platform, capsys):
    vkey = platform.signer.verifier.vkey
    status, out = run_verifier(capsys, "--url", platform.url, "--key", vkey)
    assert status == 2 and "HTTP 404" in out  # nothing signed yet
    status, _ = run_verifier(capsys, "--url", "ftp://example.test", "--key", vkey)
    assert status == 2


def test_the_module_runs_as_a_program(platform):
    platform.events(5)
    platform.sign()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "p2pbank.audit.verify",
            "--url",
            platform.url,
            "--key",
            platform.signer.verifier.vkey,
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.rstrip().endswith("RESULT: OK")


# --- journal entries against their leaves (an auditor's token) ------------------------------


@pytest.mark.parametrize("position", [0, 2, -1])
def test_with_a_token_the_verifier_names_a_rewritten_journal_entry(platform, capsys, position):
    # Review finding 1: the amount raised on both postings, balances and content_hash
    # recomputed; the log's leaf of that entry, proven in the signed checkpoint, tells.
    ids = platform.deposits(5)
    token = platform.auditor_token()
    size = platform.sign()
    vkey = platform.signer.verifier.vkey
    args = ("--url", platform.url, "--key", vkey, "--token", token)
    status, out = run_verifier(capsys, *args)
    assert status == 0, out
    assert "journal: 5 entries recomputed against 5 ledger.entry leaves: 0 differ" in out

    victim = ids[position]
    with platform.engine.begin() as conn:
        raise_entry_amount(conn, victim, 900_000)
    status, out = run_verifier(capsys, *args)
    assert status == 1, out
    assert f"PROBLEM journal entry {victim} (log entry " in out
    assert "the entry was changed after it was logged" in out
    assert f"is proven in the signed checkpoint of {size} entries (inclusion proof verified)" in out
    assert out.rstrip().endswith(f"RESULT: FAILED - first bad journal entry {victim}")
    # Without the token the log alone is intact: only the journal shows the rewrite.
    assert run_verifier(capsys, "--url", platform.url, "--key", vkey)[0] == 0


def test_a_rewritten_entry_newer_than_the_checkpoint_is_named_too(platform, capsys):
    platform.deposits(2)
    token = platform.auditor_token()
    platform.sign()
    newest = platform.deposits(1)[0]  # its leaf is past the checkpoint
    with platform.engine.begin() as conn:
        raise_entry_amount(conn, newest, 100)
    status, out = run_verifier(
        capsys, "--url", platform.url, "--key", platform.signer.verifier.vkey, "--token", token
    )
    assert status == 1, out
    assert f"PROBLEM journal entry {newest} (log entry " in out
    assert "past the signed checkpoint" in out
    assert out.rstrip().endswith(f"RESULT: FAILED - first bad journal entry {newest}")


@pytest.mark.parametrize("role", ["admin", None])
def test_the_journal_needs_an_auditors_token(platform, capsys, role):
    platform.deposits(1)
    token = platform.auditor_token(role) if role else "p2p_not-a-token"
    platform.sign()
    status, out = run_verifier(
        capsys, "--url", platform.url, "--key", platform.signer.verifier.vkey, "--token", token
    )
    assert status == 2, out
    assert "journal: HTTP 40" in out


# --- naming the first bad entry exactly (review finding 15) ---------------------------------


def rewrite_row(platform: Platform, sequence: int) -> None:
    """An entry's data and its stored leaf hash rewritten together; nodes left alone."""
    from p2pbank.audit import merkle

    with platform.session() as s:
        forged = bytes(s.get(services.LogLeaf, sequence).data).replace(b'"i":', b'"I":')
    platform.tamper(
        "UPDATE audit_leaves SET data = :d, leaf_hash = :h WHERE sequence = :s",
        d=forged,
        h=merkle.leaf_hash(forged),
        s=sequence,
    )


@pytest.mark.parametrize("bad", [0, 5, 11])
def test_a_rewritten_entry_is_named_exactly_on_the_first_run(platform, capsys, bad):
    # No state file: neither saved leaf hashes nor a previous checkpoint help. Before, the
    # walk by consistency proofs named 4 for a rewritten entry 5.
    platform.events(12)
    platform.sign()
    rewrite_row(platform, bad)
    status, out = run_verifier(
        capsys, "--url", platform.url, "--key", platform.signer.verifier.vkey
    )
    assert status == 1, out
    assert f"[entry {bad}] this entry differs from the one the signed checkpoint holds" in out
    assert out.rstrip().endswith(f"RESULT: FAILED - first bad index {bad}")


def test_the_newest_entry_past_the_checkpoint_is_checked_or_declared_unprovable(platform, capsys):
    platform.events(12)
    platform.sign()
    platform.events(2)  # entries 12 and 13: in no checkpoint yet
    args = ("--url", platform.url, "--key", platform.signer.verifier.vkey)
    with platform.session() as s:
        forged = bytes(s.get(services.LogLeaf, 13).data).replace(b'"i":', b'"I":')
    platform.tamper("UPDATE audit_leaves SET data = :d WHERE sequence = 13", d=forged)
    status, out = run_verifier(capsys, *args)
    assert status == 1, out
    assert "[entry 13] the stored leaf hash differs from the entry's data (past the signed" in out
    assert out.rstrip().endswith("RESULT: FAILED - first bad index 13")

    rewrite_row(platform, 13)  # data and leaf hash together: nothing signed can tell yet
    status, out = run_verifier(capsys, *args)
    assert status == 0, out
    assert "entries 12..13: past the signed checkpoint of 12" in out
    assert "provable only once a checkpoint includes them" in out
