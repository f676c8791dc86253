"""Input and output shapes for questions and answers (marshmallow, no framework)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from p2pbank.questions import rules
from p2pbank.trust.schemas import BadgeOut


class AskIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=5, max=rules.QUESTION_MAX))


class AnswerIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=rules.ANSWER_MAX))


class HideQuestionIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=200))


class QuestionOut(Schema):
    id = fields.Integer()
    asker = fields.Nested(BadgeOut, allow_none=True)
    body = fields.String()
    asked_at = fields.DateTime()
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
    hours = fields.Integer(metadata={"description": "Hours to the answer, or waiting so far"})
    answered_in_time = fields.Boolean(metadata={"description": "Answered within 24 hours"})


class CreatedQuestionOut(Schema):
    id = fields.Integer()
    subject_type = fields.String()
    subject_id = fields.Integer()
    body = fields.String()
    asked_at = fields.DateTime()
    answer = fields.String(allow_none=True)
    answered_at = fields.DateTime(allow_none=True)
