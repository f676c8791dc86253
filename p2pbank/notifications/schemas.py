"""Notifications through the API: kind and parameters for programs, the sentence in the
asker's language for people."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from p2pbank.notifications.queries import MAX_PER_PAGE
from p2pbank.paging import PagedOut


class NotificationQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=20, validate=validate.Range(min=1, max=MAX_PER_PAGE))
    unread_only = fields.Boolean(load_default=False)


class NotificationOut(Schema):
    id = fields.Integer()
    kind = fields.String()
    params = fields.Dict(keys=fields.String())
    text = fields.String(metadata={"description": "The sentence, in your saved language."})
    link = fields.String(allow_none=True, metadata={"description": "A path on this site."})
    created_at = fields.DateTime()
    read_at = fields.DateTime(allow_none=True)


class NotificationPageOut(PagedOut):
    notifications = fields.List(fields.Nested(NotificationOut))
    unread = fields.Integer()


class MarkedOut(Schema):
    marked = fields.Integer(metadata={"description": "How many were unread."})
