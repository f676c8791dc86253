"""The bell and the notifications page, and which kinds reach your mail.

The bell's unread count is one indexed count per signed-in page. Sentences are rendered
in the reader's language from each notification's kind and parameters."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy.exc import SQLAlchemyError

from p2pbank.db import db_session
from p2pbank.notifications import kinds, queries, services
from p2pbank.notifications.render import render

bp = Blueprint("notifications", __name__)

PER_PAGE = 20


@bp.app_context_processor
def _bell() -> dict:
    def unread_notifications() -> int:
        """The bell is decoration: a page (an error page too) never fails over it."""
        if not getattr(current_user, "is_authenticated", False):
            return 0
        try:
            return queries.unread_count(db_session(), current_user.id)
        except SQLAlchemyError:
            db_session().rollback()
            return 0

    return {"unread_notifications": unread_notifications}


def sentence(note) -> str:
    return render(note.kind, note.params, str(get_locale()))


@bp.get("/notifications")
@login_required
def index():
    page = request.args.get("page", 1, type=int) or 1
    found = queries.page_for(db_session(), current_user.id, page=max(page, 1), per_page=PER_PAGE)
    return render_template("notifications/index.html", found=found, sentence=sentence)


@bp.post("/notifications/read-all")
@login_required
def read_all():
    count = services.mark_all_read(db_session(), current_user.id)
    flash(_("%(num)d notifications marked read.", num=count), "success")
    return redirect(url_for("notifications.index"))


@bp.post("/notifications/<int:notification_id>/read")
@login_required
def read(notification_id: int):
    """Mark it read and go where it points (a path on this site only)."""
    note = services.mark_read(db_session(), current_user.id, notification_id)
    return redirect(note.link or url_for("notifications.index"))


@bp.route("/settings/notifications", methods=["GET", "POST"])
@login_required
def settings():
    if request.method == "POST":
        wanted = [k for k in request.form.getlist("email") if k in kinds.KINDS]
        services.set_email_kinds(db_session(), current_user.id, wanted)
        flash(_("Your notification settings were saved."), "success")
        return redirect(url_for("notifications.settings"))
    return render_template(
        "notifications/settings.html",
        groups=kinds.by_group(),
        group_names=kinds.GROUPS,
        email=queries.email_settings(db_session(), current_user.id),
    )
