"""Password policy and hashing (argon2id); no framework, no database."""

from __future__ import annotations

from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 256

# argon2id with the library's RFC 9106 "low memory" defaults; change here and old
# hashes are upgraded at the next successful sign-in (see `needs_rehash`).
_hasher = PasswordHasher()


@cache
def _common_passwords() -> frozenset[str]:
    text = resources.files("p2pbank.identity").joinpath("common_passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


def policy_errors(password: str, *, email: str = "", display_name: str = "") -> list[str]:
    """Reasons the password is refused; empty when it is acceptable."""
    errors = []
    if len(password) < MIN_LENGTH:
        errors.append(f"Use at least {MIN_LENGTH} characters.")
    if len(password) > MAX_LENGTH:
        errors.append(f"Use at most {MAX_LENGTH} characters.")
    lowered = password.lower()
    if lowered in _common_passwords() or lowered.rstrip("0123456789!") in _common_passwords():
        errors.append("This password is too common; choose another.")
    local = email.split("@", 1)[0].lower()
    if len(local) >= 4 and local in lowered:
        errors.append("Do not use your e-mail address in the password.")
    if len(set(password)) < 4:
        errors.append("Use more different characters.")
    return errors


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return _hasher.check_needs_rehash(stored_hash)


# Verified against when the e-mail is unknown, so timing does not reveal accounts.
DUMMY_HASH = _hasher.hash("not-a-real-password-for-timing")
