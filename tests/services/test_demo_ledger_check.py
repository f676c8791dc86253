"""`make test` proves the ledger on the demo data: seed it, then run the ledger check
(the function and the `flask ledger-check` command) and expect no violation."""

from __future__ import annotations

from sqlalchemy import func, select

from p2pbank.demo import DEMO_WALLETS, seed, seed_wallets
from p2pbank.identity.services import find_user_by_email
from p2pbank.ledger import queries
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.models import JournalEntry


def test_demo_data_passes_the_ledger_check(app, session):
    lines = list(seed(session))
    assert any("wallets" in line for line in lines)
    report = check_ledger(session)
    assert report.ok, report.violations
    assert report.entries >= len(DEMO_WALLETS)
    assert report.totals["EUR"] == 0

    result = app.test_cli_runner().invoke(args=["ledger-check"])
    assert result.exit_code == 0, result.output
    assert "0 violation(s)" in result.output


def test_demo_wallets_are_funded_once(session):
    list(seed(session))
    lena = find_user_by_email(session, "lena@demo.p2pbank.test")
    wallet = queries.wallet_summary(session, lena.id)
    assert wallet.posted >= 0 and wallet.account_code.endswith(":wallet")
    deposits = select(func.count(JournalEntry.id)).where(
        JournalEntry.idempotency_key.like("demo:opening-deposit:%")
    )
    assert session.scalar(deposits) == len(DEMO_WALLETS)
    list(seed_wallets(session))  # seeding again posts nothing new
    assert session.scalar(deposits) == len(DEMO_WALLETS)
    opening = queries.statement(session, wallet.account_code, per_page=200).lines[-1]
    assert (opening.kind, opening.amount_minor) == ("deposit", DEMO_WALLETS[lena.email])


def test_the_demo_log_verifies_within_the_maximum_merge_delay(app, session):
    # Issue 14: the demo replays months with a moving clock; its sequencer runs before each
    # move, so every queued leaf is integrated within the delay of its time.
    from p2pbank.audit.keys import signer_for

    list(seed(session, audit_signer=signer_for(app.config)))
    result = app.test_cli_runner().invoke(args=["audit-verify", "--proofs", "4"])
    assert result.exit_code == 0, result.output
    assert "maximum merge delay" not in result.output
