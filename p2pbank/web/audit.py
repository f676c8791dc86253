"""Auditor pages: the trust log explorer, checkpoint history and a proof checked step by step.

For auditors only (the same pseudonymous data is public through /api/v1/audit for
outside verifiers; these pages are the auditors' workbench inside the platform).
"""

from __future__ import annotations

import base64
import json

from flask import Blueprint, current_app, render_template, request
from flask_login import current_user, login_required
from marshmallow import EXCLUDE, ValidationError

from p2pbank.audit import queries
from p2pbank.audit.keys import signer_for
from p2pbank.audit.schemas import ExplorerArgs, ProofIn, clean_args
from p2pbank.db import db_session
from p2pbank.errors import ValidationFailed
from p2pbank.permissions import Permission, require
from p2pbank.web.forms import form_errors, load_form
from p2pbank.web.nav import has_permission, nav_item

bp = Blueprint("audit", __name__, url_prefix="/audit")


@bp.context_processor
def _merge_delay() -> dict:
    """Auditor pages warn when a queued leaf has waited past the maximum merge delay."""
    from p2pbank import clock
    from p2pbank.audit.keys import max_merge_delay
    from p2pbank.audit.queue import oldest_wait

    limit = max_merge_delay(current_app.config)
    waited = oldest_wait(db_session(), clock.now())
    late = int(waited.total_seconds()) if waited > limit else None
    return {"merge_delay_late": late, "merge_delay_limit": int(limit.total_seconds())}


nav_item(
    "Audit log",
    "audit.explorer",
    visible=has_permission(Permission.READ_AUDIT_LOG),
    order=90,
    group="audit",
)


@bp.before_request
@login_required
def _auditors_only() -> None:
    """The audit pages are for auditors (the public API serves the same pseudonymous data)."""
    require(
        current_user.role_names, Permission.READ_AUDIT_LOG, "The audit log pages are for auditors."
    )


def b64(value: bytes | None) -> str:
    return base64.b64encode(bytes(value)).decode() if value is not None else ""


@bp.app_template_filter("audit_b64")
def _b64_filter(value: bytes | None) -> str:
    return b64(value)


def _key_id() -> str:
    return signer_for(current_app.config).key_id.hex()


@bp.get("/")
def explorer():
    errors: dict = {}
    try:
        args = ExplorerArgs().load(clean_args(request.args.to_dict()), unknown=EXCLUDE)
    except ValidationError as exc:
        errors = exc.messages
        args = {"subject": None, "type": None, "before": None, "after": None}
    session = db_session()
    page = queries.explore(
        session,
        subject=args["subject"],
        event_type=args["type"],
        before=args["before"],
        after=args["after"],
    )
    filters = {k: request.args.get(k, "") for k in ("subject", "type")}
    return render_template(
        "audit/explorer.html",
        page=page,
        filters={k: v for k, v in filters.items() if v and not errors.get(k)},
        form=request.args,
        errors=errors,
        latest=queries.latest_checkpoint(session, key_id=_key_id()),
    ), (422 if errors else 200)


@bp.get("/entries/<bigint:sequence>")
def entry(sequence: int):
    leaf = queries.get_entry(db_session(), sequence)
    raw = bytes(leaf.data)
    try:
        pretty = json.dumps(json.loads(raw), indent=2, ensure_ascii=False)
    except ValueError:  # a damaged entry is shown as it is stored
        pretty = raw.decode("utf-8", "replace")
    return render_template("audit/entry.html", leaf=leaf, pretty=pretty)


@bp.get("/checkpoints")
def checkpoints():
    page = max(request.args.get("page", 1, type=int) or 1, 1)
    per_page = 20
    rows, total = queries.checkpoint_history(db_session(), page=page, per_page=per_page)
    return render_template(
        "audit/checkpoints.html",
        checkpoints=rows,
        page=page,
        has_next=page * per_page < total,
        total=total,
        key_id=_key_id(),
    )


@bp.route("/proof", methods=["GET", "POST"])
def proof():
    session = db_session()
    latest = queries.latest_checkpoint(session, key_id=_key_id())
    errors: dict = {}
    explanation = None
    form = {
        "index": request.args.get("index", ""),
        "size": request.args.get("size", "") or (str(latest.tree_size) if latest else ""),
    }
    if request.method == "POST":
        form = {"index": request.form.get("index", ""), "size": request.form.get("size", "")}
        data, errors = load_form(ProofIn())
        if data is not None:
            try:
                explanation = queries.explain_inclusion(
                    session, data["index"], data["size"], key_id=_key_id()
                )
            except ValidationFailed as exc:
                errors = form_errors(exc)
    return render_template(
        "audit/proof.html",
        form=form,
        errors=errors,
        explanation=explanation,
        latest=latest,
        size_now=queries.head_size(session),
    ), (422 if errors else 200)
