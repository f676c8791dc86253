"""Real concurrency on PostgreSQL: two requests racing with the same TOTP code, recovery code
or reset link; exactly one wins. Rows are committed for real and removed afterwards."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.errors import DomainError
from p2pbank.identity import reset_services, services, twofactor
from p2pbank.identity import twofactor_services as tfa
from p2pbank.identity.models import (
    OutboxMail,
    PasswordResetToken,
    RecoveryCode,
    RoleGrant,
    User,
)
from tests.support.people import STRONG_PASSWORD

pytestmark = pytest.mark.postgres_only


@pytest.fixture
def committed_user(engine, frozen_now):
    """A person committed outside the per-test transaction, with two-factor sign-in on."""
    with Session(engine, expire_on_commit=False) as s:
        user = services.sign_up(
            s, email="race@example.test", display_name="Race", password=STRONG_PASSWORD
        )
        secret = tfa.start_enrolment(s, user.id)
        codes = tfa.confirm_enrolment(s, user.id, twofactor.code_at(secret, clock.now()))
    try:
        yield user, secret, codes
    finally:
        with Session(engine) as s:
            s.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
            s.execute(delete(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
            s.execute(delete(RoleGrant).where(RoleGrant.user_id == user.id))
            s.execute(delete(OutboxMail).where(OutboxMail.to_address == user.email))
            s.execute(delete(User).where(User.id == user.id))
            s.commit()


def _race(engine, attempts: int, command: Callable[[Session], object]) -> list[object]:
    """Run `command` in `attempts` threads at once, each with its own connection."""
    barrier = threading.Barrier(attempts)
    results: list[object] = [None] * attempts

    def run(n: int) -> None:
        with Session(engine) as s:
            barrier.wait()
            try:
                results[n] = command(s)
            except DomainError as exc:
                results[n] = exc

    threads = [threading.Thread(target=run, args=(n,)) for n in range(attempts)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def _wins(results) -> int:
    return sum(not isinstance(r, DomainError) for r in results)


def test_the_same_code_is_accepted_once_under_a_race(engine, committed_user):
    user, secret, _codes = committed_user
    clock.advance(timedelta(seconds=30))
    code = twofactor.code_at(secret, clock.now())
    results = _race(engine, 6, lambda s: tfa.verify_second_factor(s, user.id, code))
    assert _wins(results) == 1, results


def test_a_recovery_code_is_used_once_under_a_race(engine, committed_user):
    user, _secret, codes = committed_user
    results = _race(engine, 6, lambda s: tfa.verify_second_factor(s, user.id, codes[0]))
    assert _wins(results) == 1, results
    with Session(engine) as s:
        used = s.scalars(
            select(RecoveryCode).where(
                RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_not(None)
            )
        ).all()
        assert len(used) == 1


def test_a_reset_link_is_used_once_under_a_race(engine, committed_user):
    user, _secret, _codes = committed_user
    with Session(engine) as s:
        link = reset_services.request_password_reset(
            s, user.email, ttl_seconds=600, link_for=lambda t: t
        )
    passwords = iter([f"swift-new-secret-{n:02d}-xyz" for n in range(6)])
    lock = threading.Lock()

    def reset(s: Session):
        with lock:
            password = next(passwords)
        return reset_services.reset_password(s, link, password)

    results = _race(engine, 6, reset)
    assert _wins(results) == 1, results
    with Session(engine) as s:
        epoch = s.scalar(select(User.session_epoch).where(User.id == user.id))
    assert epoch == 2  # confirm_enrolment bumped it once, the single reset once
