"""Members for tests: made through sign-up like real ones, with roles, KYC and (for the
roles that must have it) two-factor sign-in whose recovery codes the test browser uses."""

from __future__ import annotations

import itertools

from p2pbank import clock
from p2pbank.identity import services

STRONG_PASSWORD = "correct-horse-battery-42"

# Auditors and admins must use two-factor sign-in: make_user turns it on for them and keeps
# their recovery codes here (by e-mail), so Browser.login can answer the challenge.
SECOND_FACTOR_CODES: dict[str, list[str]] = {}

_n = itertools.count(1)


def set_kyc(session, user_id: int, status: str, reason: str = "test") -> None:
    """Walk KYC the way a reviewer does: pending first, then the decision."""
    if status in ("pending", "verified", "rejected"):
        services.set_kyc_status(session, None, user_id, "pending", reason)
    if status in ("verified", "rejected"):
        services.set_kyc_status(session, None, user_id, status, reason)


def member(
    session,
    name: str,
    roles=(),
    *,
    email: str | None = None,
    kyc: str = "verified",
    password: str = STRONG_PASSWORD,
    reason: str = "test",
):
    """A member who signed up with self-service roles, KYC walked to `kyc`."""
    user = services.sign_up(
        session,
        email=email or f"{name.lower()}-{next(_n)}@example.test",
        display_name=name,
        password=password,
        roles=list(roles),
    )
    set_kyc(session, user.id, kyc, reason)
    return user


def user_maker(session):
    """make_user(roles=[...], kyc="verified", email=None, two_factor=None) -> User, committed
    in the test txn. two_factor None means: on for auditors and admins (their roles need it)."""
    counter = {"n": 0}

    def _make(
        roles=(),
        kyc: str = "unverified",
        email: str | None = None,
        name: str | None = None,
        password: str = STRONG_PASSWORD,
        two_factor: bool | None = None,
    ):
        counter["n"] += 1
        n = counter["n"]
        email = email or f"person{n}@example.test"
        self_service = [r for r in roles if r not in ("auditor", "admin")]
        user = services.sign_up(
            session,
            email=email,
            display_name=name or f"Person {n}",
            password=password,
            roles=self_service,
        )
        for role in roles:
            if role in ("auditor", "admin"):
                services.grant_role(session, None, user.id, role, "test")
        set_kyc(session, user.id, kyc)
        if two_factor or (two_factor is None and user.two_factor_required):
            _enrol(session, user)
        return user

    return _make


def _enrol(session, user) -> None:
    from p2pbank.identity import twofactor, twofactor_services

    secret = twofactor_services.start_enrolment(session, user.id)
    SECOND_FACTOR_CODES[user.email] = twofactor_services.confirm_enrolment(
        session, user.id, twofactor.code_at(secret, clock.now())
    )
