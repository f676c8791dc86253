"""Secrets shown once and stored only as hashes (API tokens, reset links, recovery codes)."""

from __future__ import annotations

import hashlib
import hmac
import secrets

API_TOKEN_PREFIX = "p2pb_"  # noqa: S105 (a public prefix, not a secret)


def new_api_token() -> str:
    return API_TOKEN_PREFIX + secrets.token_urlsafe(32)


def new_url_token() -> str:
    return secrets.token_urlsafe(32)


def new_recovery_code() -> str:
    """Ten base32 characters split for reading, e.g. 'K7QX3-M2PA9'."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    raw = "".join(secrets.choice(alphabet) for _ in range(10))
    return f"{raw[:5]}-{raw[5:]}"


def token_hash(token: str) -> str:
    """SHA-256 is enough: the tokens carry 256 bits of entropy, unlike passwords."""
    return hashlib.sha256(token.strip().encode()).hexdigest()


def same_hash(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
