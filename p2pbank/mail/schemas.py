"""The outbox as admins see it through the API (never the body: it may hold a link)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from p2pbank.mail.admin import LISTED, MAX_PER_PAGE
from p2pbank.paging import PagedOut


class MailQuery(Schema):
    status = fields.String(load_default="unsent", validate=validate.OneOf(LISTED))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=MAX_PER_PAGE))


class MailOut(Schema):
    id = fields.Integer()
    to_address = fields.String()
    subject = fields.String()
    status = fields.String(metadata={"description": "queued, sent or failed"})
    attempts = fields.Integer()
    created_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    next_attempt_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)


class MailPageOut(PagedOut):
    mails = fields.List(fields.Nested(MailOut))
    status = fields.String()
