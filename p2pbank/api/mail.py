"""Admin endpoints for the outbox: list queued and failed mail, send one again."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from p2pbank.api.auth import current_api_user, protect
from p2pbank.db import db_session
from p2pbank.mail import admin
from p2pbank.mail.schemas import MailOut, MailPageOut, MailQuery

blp = Blueprint(
    "mail_api", __name__, url_prefix="/api/v1/admin/mail", description="Admin: outgoing mail"
)
protect(blp)


@blp.route("")
class Outbox(MethodView):
    @blp.arguments(MailQuery, location="query")
    @blp.response(200, MailPageOut)
    def get(self, args):
        """Outgoing mail by status ("unsent": queued and failed, failed first), newest first."""
        return admin.mail_page(db_session(), current_api_user().id, **args)


@blp.route("/<int:mail_id>/retry")
class Retry(MethodView):
    @blp.response(200, MailOut)
    def post(self, mail_id: int):
        """Queue a failed mail again with a fresh round of attempts (or hurry a queued one)."""
        return admin.retry(db_session(), current_api_user().id, mail_id)
