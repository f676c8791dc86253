"""Wallet pages (a person's own money) and ledger pages (auditors: any account, the trial
balance, any entry). Thin: every page calls p2pbank.ledger.queries."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError

from p2pbank.db import db_session
from p2pbank.errors import ValidationFailed
from p2pbank.ledger import auditor_reads, queries
from p2pbank.ledger.checks import check_ledger
from p2pbank.ledger.schemas import LedgerAccountsQuery, StatementQuery
from p2pbank.money import exponent
from p2pbank.permissions import Permission
from p2pbank.web.nav import dashboard_panel, everyone, has_permission, nav_item

bp = Blueprint("ledger", __name__)

nav_item("Wallet", "ledger.wallet", visible=everyone, order=20, group="wallet")
nav_item(
    "Ledger", "ledger.index", visible=has_permission(Permission.READ_BOOKS), order=90, group="audit"
)
dashboard_panel("ledger/_wallet_panel.html", visible=everyone, order=10)


def _viewer() -> auditor_reads.Viewer:
    return auditor_reads.Viewer(current_user.id, frozenset(current_user.role_names))


def _args(schema) -> dict:
    try:
        return schema.load(request.args.to_dict(), unknown=EXCLUDE)
    except ValidationError as exc:
        raise ValidationFailed(
            _("The page address is not valid."), field_errors=exc.messages
        ) from exc


@bp.app_context_processor
def _wallet_for_panel():
    def ledger_wallet(user):
        return queries.wallet_summary(db_session(), user.id)

    return {"ledger_wallet": ledger_wallet}


# --- a person's wallet ----------------------------------------------------------------------


@bp.get("/wallet")
@login_required
def wallet():
    paging = _args(StatementQuery())
    session = db_session()
    summary = queries.wallet_summary(session, current_user.id)
    page = queries.wallet_statement(session, current_user.id, **paging)
    return render_template("ledger/wallet.html", wallet=summary, statement=page)


def decimal_text(minor: int, currency: str) -> str:
    """Exact decimal text of an amount in minor units, e.g. -1250 EUR -> "-12.50"."""
    places = exponent(currency)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**places)
    return f"{sign}{whole}.{fraction:0{places}d}" if places else f"{sign}{whole}"


def _cell(text: str) -> str:
    """Keep spreadsheet programs from running a cell as a formula (CSV injection)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@bp.get("/wallet/statement.csv")
@login_required
def wallet_csv():
    session = db_session()
    summary = queries.wallet_summary(session, current_user.id)
    lines = queries.wallet_statement_lines(session, current_user.id)

    def rows() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(["date", "entry", "kind", "description", "amount", "balance", "currency"])
        for line in lines:
            writer.writerow(
                [
                    line.created_at.isoformat(),
                    line.entry_id,
                    _cell(line.kind),
                    _cell(line.memo),
                    decimal_text(line.amount_minor, summary.currency),
                    decimal_text(line.balance_after_minor, summary.currency),
                    summary.currency,
                ]
            )
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
        yield buffer.getvalue()

    response = Response(stream_with_context(rows()), mimetype="text/csv")
    response.headers["Content-Disposition"] = 'attachment; filename="wallet-statement.csv"'
    response.headers["Cache-Control"] = "no-store"
    return response


# --- auditors -------------------------------------------------------------------------------


@bp.get("/ledger")
@login_required
def index():
    session = db_session()
    viewer = _viewer()
    trial = auditor_reads.auditor_trial_balance(session, viewer)
    entries = auditor_reads.auditor_recent_entries(session, viewer, limit=20)
    return render_template("ledger/index.html", trial=trial, entries=entries)


@bp.get("/ledger/trial-balance")
@login_required
def trial_balance():
    trial = auditor_reads.auditor_trial_balance(db_session(), _viewer())
    return render_template("ledger/trial_balance.html", trial=trial)


@bp.get("/ledger/check")
@login_required
def check():
    auditor_reads.require_books(_viewer())
    report = check_ledger(db_session())
    return render_template("ledger/check.html", report=report)


@bp.get("/ledger/accounts")
@login_required
def accounts():
    args = _args(LedgerAccountsQuery())
    page = auditor_reads.auditor_accounts(db_session(), _viewer(), **args)
    return render_template("ledger/accounts.html", accounts=page, prefix=args["prefix"])


@bp.get("/ledger/accounts/<code>")
@login_required
def account(code: str):
    paging = _args(StatementQuery())
    session = db_session()
    viewer = _viewer()
    view = auditor_reads.auditor_account(session, viewer, code)
    page = auditor_reads.auditor_statement(session, viewer, code, **paging)
    holds = auditor_reads.auditor_holds(session, viewer, code)
    return render_template("ledger/account.html", account=view, statement=page, holds=holds)


@bp.get("/ledger/entries/<int:entry_id>")
@login_required
def entry(entry_id: int):
    view = auditor_reads.auditor_entry(db_session(), _viewer(), entry_id)
    return render_template("ledger/entry.html", entry=view)
