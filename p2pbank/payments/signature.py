"""Stripe's webhook signature scheme, written out (pure standard library).

Header: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256>[,v1=...]`, where the MAC
is computed with the endpoint secret over `"<t>.<raw body>"`. A receiver accepts the event
when any v1 signature matches (compared in constant time) and t is no older than the
tolerance (300 s by default). Source: Stripe, "Check the webhook signatures"
(docs.stripe.com/webhooks#verify-manually). The test-mode gateway signs and verifies with
this module; the Stripe gateway uses the SDK's own implementation of the same scheme.
"""

from __future__ import annotations

import hashlib
import hmac

from p2pbank.digits import is_ascii_digits

DEFAULT_TOLERANCE_SECONDS = 300
SCHEME = "v1"


class SignatureError(ValueError):
    """The header is missing, malformed, forged or too old."""


def compute(payload: bytes, secret: str, timestamp: int) -> str:
    signed = str(int(timestamp)).encode() + b"." + payload
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


def sign(payload: bytes, secret: str, timestamp: int) -> str:
    """The header value for `payload` signed at `timestamp`."""
    return f"t={int(timestamp)},{SCHEME}={compute(payload, secret, timestamp)}"


def parse_header(header: str | None) -> tuple[int, list[str]]:
    if not header:
        raise SignatureError("no signature header")
    timestamp: int | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            raise SignatureError("malformed signature header")
        if key == "t":
            if not is_ascii_digits(value):
                raise SignatureError("malformed timestamp")
            timestamp = int(value)
        elif key == SCHEME:
            signatures.append(value)
    if timestamp is None:
        raise SignatureError("no timestamp in signature header")
    if not signatures:
        raise SignatureError(f"no {SCHEME} signature in header")
    return timestamp, signatures


def verify(
    payload: bytes,
    header: str | None,
    secret: str,
    *,
    now_ts: int,
    tolerance: int = DEFAULT_TOLERANCE_SECONDS,
) -> int:
    """Return the signed timestamp; raise SignatureError unless the header checks out."""
    if not secret:
        raise SignatureError("no webhook secret configured")
    timestamp, signatures = parse_header(header)
    expected = compute(payload, secret, timestamp)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise SignatureError("signature does not match")
    if timestamp < now_ts - tolerance:
        raise SignatureError("timestamp outside the tolerance")
    return timestamp
