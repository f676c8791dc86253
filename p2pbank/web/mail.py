"""Mail pages: admins see queued and failed outbox mail and send one again; in
development, /dev/mail shows the mail the app "sent" (the .eml files the scheduled work
wrote), so a newcomer can follow a password reset end to end without a mail server."""

from __future__ import annotations

import re
from email import policy
from email.parser import BytesParser

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup, escape

from p2pbank.db import db_session
from p2pbank.mail import admin as mail_admin
from p2pbank.mail.transport import dev_folder
from p2pbank.permissions import Permission
from p2pbank.web.nav import has_permission, nav_item

bp = Blueprint("mail", __name__)

nav_item(
    "Outgoing mail",
    "mail.outbox",
    visible=has_permission(Permission.MANAGE_PEOPLE),
    order=96,
    group="admin",
)

DEV_LIST_LIMIT = 200
_URL = re.compile(r"https?://[^\s<>\"]+")


@bp.get("/admin/mail")
@login_required
def outbox():
    status = request.args.get("status", "unsent")
    page = request.args.get("page", 1, type=int) or 1
    found = mail_admin.mail_page(db_session(), current_user.id, status, page=page)
    return render_template("mail/outbox.html", found=found, statuses=mail_admin.LISTED)


@bp.post("/admin/mail/<int:mail_id>/retry")
@login_required
def retry(mail_id: int):
    mail_admin.retry(db_session(), current_user.id, mail_id)
    flash(_("The mail will be sent again with the next run of the scheduled work."), "success")
    return redirect(url_for("mail.outbox"))


# --- development only ----------------------------------------------------------------------


def _development_only() -> None:
    config = current_app.p2p_config
    if config.ENV != "development" or config.SMTP_URL:
        abort(404)


def _linkified(text: str) -> Markup:
    """The body with its links clickable (everything else escaped)."""
    out, last = [], 0
    for match in _URL.finditer(text):
        out.append(escape(text[last : match.start()]))
        url = match.group(0)
        out.append(Markup('<a href="{0}">{0}</a>').format(url))
        last = match.end()
    out.append(escape(text[last:]))
    return Markup("").join(out)


def _read(path):
    message = BytesParser(policy=policy.default).parsebytes(path.read_bytes())
    body = message.get_body(preferencelist=("plain",))
    return {
        "id": int(path.stem),
        "to": message["To"],
        "subject": message["Subject"],
        "date": message["Date"],
        "body": _linkified(body.get_content() if body else ""),
    }


@bp.get("/dev/mail")
def dev_mails():
    _development_only()
    folder = dev_folder(current_app.p2p_config.INSTANCE_PATH)
    paths = sorted(
        folder.glob("*.eml") if folder.is_dir() else [], key=lambda p: int(p.stem), reverse=True
    )
    mails = [_read(p) for p in paths[:DEV_LIST_LIMIT] if p.stem.isdigit()]
    return render_template("mail/dev_list.html", mails=mails, folder=folder)


@bp.get("/dev/mail/<int:mail_id>")
def dev_mail(mail_id: int):
    _development_only()
    path = dev_folder(current_app.p2p_config.INSTANCE_PATH) / f"{mail_id}.eml"
    if not path.is_file():
        abort(404)
    return render_template("mail/dev_mail.html", mail=_read(path))
