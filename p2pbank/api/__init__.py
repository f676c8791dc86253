"""JSON API under /api/v1 (flask-smorest); bearer tokens, problem+json errors."""

from __future__ import annotations

import http

from flask import Flask
from flask_smorest import Api
from flask_smorest.utils import prepare_response
from marshmallow import Schema, fields

from p2pbank.extensions import csrf

PROBLEM = "application/problem+json"


class Problem(Schema):
    """RFC 9457 problem details: the shape of every API error (see web/errors.py)."""

    type = fields.String(metadata={"example": "about:blank"})
    title = fields.String()
    status = fields.Integer()
    detail = fields.String()
    instance = fields.String(metadata={"description": "The path that was asked for."})
    request_id = fields.String(metadata={"description": "Quote it when you contact us."})
    errors = fields.Dict(
        keys=fields.String(),
        metadata={"description": "Field name -> messages, for validation errors."},
    )


class ProblemApi(Api):
    """Documents error responses as they are sent: problem+json with the Problem shape."""

    ERROR_SCHEMA = Problem

    def _register_responses(self):
        # Same as flask-smorest's, with the problem+json media type for error bodies.
        for status in http.HTTPStatus:
            response: dict = {"description": status.phrase}
            if not (100 <= status < 200) and status not in (204, 304):
                response["schema"] = self.ERROR_SCHEMA
            prepare_response(response, self.spec, PROBLEM)
            self.spec.components.response(status.name, response, lazy=True)
        response = {"description": "Default error response", "schema": self.ERROR_SCHEMA}
        prepare_response(response, self.spec, PROBLEM)
        self.spec.components.response("DEFAULT_ERROR", response, lazy=True)


api = ProblemApi()

API_BLUEPRINTS: list = []


def init_api(app: Flask) -> None:
    from p2pbank.api import (
        admin,
        audit,
        crowdfunding,
        crowdfunding_investor,  # noqa: F401 (adds its endpoints to crowdfunding.blp)
        identity,
        ledger,
        lending,
        mail,
        notifications,
        payments,
        questions,
        resale,
        trust,
    )

    api.init_app(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    for module in (
        identity,
        ledger,
        admin,
        audit,
        payments,
        lending,
        crowdfunding,
        trust,
        questions,
        resale,
        mail,
        notifications,
    ):
        csrf.exempt(module.blp)  # token-authenticated, no cookies: CSRF does not apply
        api.register_blueprint(module.blp)
