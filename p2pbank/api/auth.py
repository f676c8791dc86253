"""Bearer-token authentication for the API."""

from __future__ import annotations

from flask import g, request

from p2pbank.db import db_session
from p2pbank.errors import Forbidden, Unauthorized
from p2pbank.identity import services

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def authenticate_request() -> None:
    """Resolve the bearer token once per request; write methods need a write token."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer" or not secret.strip():
        raise Unauthorized("Send a personal API token as 'Authorization: Bearer <token>'.")
    user, token = services.user_for_api_token(db_session(), secret.strip())
    if request.method in WRITE_METHODS and token.scope != "write":
        raise Forbidden("This token is read-only.")
    g.api_user = user
    g.api_token = token


def current_api_user():
    user = g.get("api_user")
    if user is None:
        raise Unauthorized("Authentication required.")
    return user


def protect(blp) -> None:
    """Every route of this blueprint requires a token."""
    blp.before_request(authenticate_request)
