"""Your notifications under /api/v1/notifications: a page of them, mark one or all read.
Only your own: another person's notification is not found."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.notifications import queries, services
from p2pbank.notifications.render import render
from p2pbank.notifications.schemas import (
    MarkedOut,
    NotificationOut,
    NotificationPageOut,
    NotificationQuery,
)

blp = Blueprint(
    "notifications_api",
    __name__,
    url_prefix="/api/v1/notifications",
    description="Your notifications (the bell)",
)
protect(blp)


def _out(note, locale: str | None) -> dict:
    return {
        "id": note.id,
        "kind": note.kind,
        "params": note.params,
        "text": render(note.kind, note.params, locale),
        "link": note.link,
        "created_at": note.created_at,
        "read_at": note.read_at,
    }


@blp.route("")
class Notifications(MethodView):
    @blp.arguments(NotificationQuery, location="query")
    @blp.response(200, NotificationPageOut)
    def get(self, args):
        """Your notifications, newest first, with the unread count."""
        user = current_api_user()
        found = queries.page_for(db_session(), user.id, **args)
        return {
            "notifications": [_out(n, user.locale) for n in found.notifications],
            "unread": found.unread,
            "page": found.page,
            "per_page": found.per_page,
            "total": found.total,
            "pages": found.pages,
        }


@blp.route("/<int:notification_id>/read")
class Read(MethodView):
    @blp.response(200, NotificationOut)
    def post(self, notification_id: int):
        """Mark one of your notifications read."""
        user = current_api_user()
        return _out(services.mark_read(db_session(), user.id, notification_id), user.locale)


@blp.route("/read-all")
class ReadAll(MethodView):
    @blp.response(200, MarkedOut)
    def post(self):
        """Mark all your notifications read."""
        return {"marked": services.mark_all_read(db_session(), current_api_user().id)}
