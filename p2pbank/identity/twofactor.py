"""TOTP two-factor sign-in (RFC 6238 via pyotp) and recovery-code formats; no framework,
no database. Time is passed in, so the rules are plain functions of their arguments."""

from __future__ import annotations

import base64
import binascii
import hmac
import io
import re
from datetime import datetime

import pyotp
import qrcode
import qrcode.image.svg

ISSUER = "p2pbank"
STEP_SECONDS = 30
DIGITS = 6
# Accept the previous and the next time step too, for clocks a little off and for codes
# typed just as they changed (RFC 6238 section 5.2 recommends at most one step back).
WINDOW_STEPS = 1
RECOVERY_CODE_COUNT = 10

_NOT_DIGITS = re.compile(r"[\s-]")
_NOT_CODE_CHARS = re.compile(r"[^0-9A-Za-z]")


def new_secret() -> str:
    """160 random bits in base32, the length RFC 4226 recommends for HMAC-SHA1."""
    return pyotp.random_base32(length=32)


def is_valid_secret(secret: str) -> bool:
    """Unpadded base32 (A-Z, 2-7) of 128 to 320 bits; RFC 4226 asks for at least 128."""
    if not 26 <= len(secret) <= 64 or not secret.isascii() or not secret.isupper():
        return False
    try:
        key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    except binascii.Error:
        return False
    return len(key) >= 16


def provisioning_uri(secret: str, account: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def time_step(at: datetime) -> int:
    """The RFC 6238 counter T = floor(unix time / 30) for an aware datetime."""
    if at.tzinfo is None:
        raise ValueError("time steps are computed from aware datetimes")
    return int(at.timestamp()) // STEP_SECONDS


def code_at_step(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def code_at(secret: str, at: datetime) -> str:
    return code_at_step(secret, time_step(at))


def normalize_code(text: str) -> str | None:
    """'123 456' or '123-456' -> '123456'; None when it is not a six-digit code."""
    code = _NOT_DIGITS.sub("", text or "")
    if len(code) == DIGITS and code.isascii() and code.isdigit():
        return code
    return None


def matching_step(secret: str, code: str, at: datetime, last_used_step: int | None) -> int | None:
    """The time step whose code this is, within the window around `at`, and later than the
    last step already used (so a code, or an older one, is never accepted twice); else None."""
    wanted = normalize_code(code)
    if wanted is None:
        return None
    current = time_step(at)
    found = None
    for step in range(max(0, current - WINDOW_STEPS), current + WINDOW_STEPS + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        # Compare every candidate in constant time, without stopping early.
        if hmac.compare_digest(code_at_step(secret, step), wanted) and found is None:
            found = step
    return found


def normalize_recovery_code(text: str) -> str | None:
    """'k7qx3 m2pa9' -> 'K7QX3-M2PA9' (the form that is hashed); None when it cannot be one."""
    raw = _NOT_CODE_CHARS.sub("", text or "").upper()
    if len(raw) != 10 or not raw.isascii():
        return None
    return f"{raw[:5]}-{raw[5:]}"


def qr_svg(data: str) -> str:
    """The QR code for `data` as a standalone SVG document (black on white, no scripts)."""
    image = qrcode.make(
        data,
        image_factory=qrcode.image.svg.SvgPathFillImage,
        box_size=10,
        border=4,
        error_correction=qrcode.constants.ERROR_CORRECT_M,
    )
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue().decode("utf-8")
