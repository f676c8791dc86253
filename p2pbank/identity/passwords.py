"""Password policy and hashing (argon2id); no framework, no database."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import NamedTuple

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError


class HashCost(NamedTuple):
    """argon2id cost parameters (RFC 9106 section 4)."""

    time_cost: int
    memory_kib: int
    parallelism: int


MIN_LENGTH = 12
MAX_LENGTH = 256

# argon2id with the library's RFC 9106 "low memory" defaults (t=3, 64 MiB, p=4); change
# here and old hashes are upgraded at the next successful sign-in (see `needs_rehash`).
PRODUCTION_COST = HashCost(time_cost=3, memory_kib=65536, parallelism=4)
# The smallest argon2id accepts: for test suites only, where thousands of sign-ups would
# otherwise spend minutes hashing. `Config` refuses it in production.
TEST_COST = HashCost(time_cost=1, memory_kib=8, parallelism=1)

_hasher = PasswordHasher(
    time_cost=PRODUCTION_COST.time_cost,
    memory_cost=PRODUCTION_COST.memory_kib,
    parallelism=PRODUCTION_COST.parallelism,
)


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


def set_cost(cost: HashCost) -> None:
    """Hash new passwords at `cost` from now on (process-wide, set once at start-up).
    Hashes made at another cost still verify and are re-hashed at the next sign-in."""
    global _hasher
    if cost == current_cost():
        return
    _hasher = PasswordHasher(
        time_cost=cost.time_cost, memory_cost=cost.memory_kib, parallelism=cost.parallelism
    )
    _dummy_hash.cache_clear()


def current_cost() -> HashCost:
    return HashCost(_hasher.time_cost, _hasher.memory_cost, _hasher.parallelism)


@cache
def _dummy_hash() -> str:
    return _hasher.hash("not-a-real-password-for-timing")


def verify_unknown_account(password: str) -> None:
    """Spend the time a real verification costs when the e-mail is unknown, so timing
    does not reveal which addresses have accounts."""
    verify_password(_dummy_hash(), password)
