"""JSON API under /api/v1 (flask-smorest); bearer tokens, problem+json errors."""

from __future__ import annotations

from flask import Flask
from flask_smorest import Api

from p2pbank.extensions import csrf

api = Api()

API_BLUEPRINTS: list = []


def init_api(app: Flask) -> None:
    from p2pbank.api import identity

    api.init_app(
        app,
        spec_kwargs={
            "components": {"securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}}},
            "security": [{"bearer": []}],
        },
    )
    for module in (identity,):
        csrf.exempt(module.blp)  # token-authenticated, no cookies: CSRF does not apply
        api.register_blueprint(module.blp)
