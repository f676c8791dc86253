"""Wallet and ledger endpoints: a person's own wallet and statement; auditors see any
account, any entry and the trial balance. Thin: each calls p2pbank.ledger.queries."""

from __future__ import annotations

from flask import current_app
from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.audit.keys import max_merge_delay, signer_for
from p2pbank.db import db_session
from p2pbank.ledger import auditor_reads, log_check, promises, queries
from p2pbank.ledger.schemas import (
    EntryPromiseOut,
    JournalEntryOut,
    JournalPageOut,
    JournalQuery,
    LedgerAccountOut,
    LedgerAccountPageOut,
    LedgerAccountsQuery,
    StatementOut,
    StatementQuery,
    TrialBalanceOut,
    WalletOut,
)

blp = Blueprint(
    "ledger_api", __name__, url_prefix="/api/v1", description="Wallet balances and the ledger"
)
protect(blp)


def _viewer() -> auditor_reads.Viewer:
    user = current_api_user()
    return auditor_reads.Viewer(user.id, frozenset(user.role_names))


@blp.route("/wallet")
class Wallet(MethodView):
    @blp.response(200, WalletOut)
    def get(self):
        """Your wallet: posted, held and available balance in minor units, open holds."""
        return queries.wallet_summary(db_session(), current_api_user().id)


@blp.route("/wallet/statement")
class WalletStatement(MethodView):
    @blp.arguments(StatementQuery, location="query")
    @blp.response(200, StatementOut)
    def get(self, args):
        """Your wallet's postings, newest first, each with the balance after it."""
        return queries.wallet_statement(db_session(), current_api_user().id, **args)


@blp.route("/ledger/accounts")
class Accounts(MethodView):
    @blp.arguments(LedgerAccountsQuery, location="query")
    @blp.response(200, LedgerAccountPageOut)
    def get(self, args):
        """Auditors: every account with its balances, by code."""
        return auditor_reads.auditor_accounts(db_session(), _viewer(), **args)


@blp.route("/ledger/accounts/<code>")
class AccountItem(MethodView):
    @blp.response(200, LedgerAccountOut)
    def get(self, code: str):
        """Auditors: one account and its balances."""
        return auditor_reads.auditor_account(db_session(), _viewer(), code)


@blp.route("/ledger/accounts/<code>/statement")
class AccountStatement(MethodView):
    @blp.arguments(StatementQuery, location="query")
    @blp.response(200, StatementOut)
    def get(self, args, code: str):
        """Auditors: an account's postings with running balance, newest first."""
        return auditor_reads.auditor_statement(db_session(), _viewer(), code, **args)


@blp.route("/ledger/entries/<int:entry_id>")
class EntryItem(MethodView):
    @blp.response(200, JournalEntryOut)
    def get(self, entry_id: int):
        """Auditors: one journal entry with its postings and content hash."""
        return auditor_reads.auditor_entry(db_session(), _viewer(), entry_id)


@blp.route("/ledger/entries/<int:entry_id>/promise")
class EntryPromise(MethodView):
    @blp.response(200, EntryPromiseOut)
    def get(self, entry_id: int):
        """The trust log's signed promise to include this entry's leaf within its maximum
        merge delay: for the owners of the accounts it moved money on, and auditors. Keep
        it, and check it later with python -m p2pbank.audit.verify --promise FILE."""
        config = current_app.config
        return promises.entry_promise(
            db_session(), _viewer(), entry_id, signer_for(config), max_merge_delay(config)
        )


@blp.route("/ledger/trial-balance")
class TrialBalance(MethodView):
    @blp.response(200, TrialBalanceOut)
    def get(self):
        """Auditors: debits and credits per currency and account type."""
        return auditor_reads.auditor_trial_balance(db_session(), _viewer())


@blp.route("/ledger/journal")
class Journal(MethodView):
    @blp.arguments(JournalQuery, location="query")
    @blp.response(200, JournalPageOut)
    def get(self, args):
        """Auditors only: journal entries in id order, after=<id>, with every field their
        content hash covers, so an outside verifier can recompute each hash and prove it
        against the entry's leaf in the trust log (python -m p2pbank.audit.verify --token)."""
        return log_check.auditor_journal(db_session(), _viewer(), **args)
