"""Password reset by a single-use, expiring link, against the real database."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.errors import InvalidState, Unauthorized, ValidationFailed
from p2pbank.identity import reset_services, services, tokens
from p2pbank.identity.models import OutboxMail, PasswordResetToken
from tests.support.people import STRONG_PASSWORD

TTL = 3600
NEW_PASSWORD = "a-brand-new-secret-77"


def _request(session, email: str) -> tuple[str | None, str | None]:
    """(link, secret) as the mail would carry them."""
    link = reset_services.request_password_reset(
        session, email, ttl_seconds=TTL, link_for=lambda t: f"https://p2pbank.test/reset/{t}"
    )
    return link, (link.rsplit("/", 1)[1] if link else None)


def _count(session, model) -> int:
    return session.scalar(select(func.count(model.id)))


def test_unknown_address_writes_nothing(session, make_user):
    make_user(email="ann@example.test")
    before = (_count(session, PasswordResetToken), _count(session, OutboxMail))
    assert _request(session, "nobody@example.test") == (None, None)
    assert (_count(session, PasswordResetToken), _count(session, OutboxMail)) == before


def test_request_stores_only_the_hash_and_mails_the_link(session, make_user, frozen_now):
    user = make_user(email="ann@example.test")
    link, secret = _request(session, "  ANN@example.test ")
    row = session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    assert row.token_hash == tokens.token_hash(secret)
    assert secret not in row.token_hash
    assert row.expires_at == frozen_now + timedelta(seconds=TTL)
    mail = session.scalar(
        select(OutboxMail).where(OutboxMail.subject == "Reset your p2pbank password")
    )
    assert mail.to_address == "ann@example.test"
    assert link in mail.body and "60 minutes" in mail.body


def test_reset_sets_the_password_ends_sessions_and_uses_the_link(session, make_user, frozen_now):
    user = make_user()
    _link, secret = _request(session, user.email)
    assert reset_services.check_reset_token(session, secret).id == user.id
    epoch = user.session_epoch
    reset_services.reset_password(session, secret, NEW_PASSWORD)
    session.refresh(user)
    assert user.session_epoch == epoch + 1
    assert services.authenticate(session, email=user.email, password=NEW_PASSWORD).id == user.id
    with pytest.raises(Unauthorized):
        services.authenticate(session, email=user.email, password=STRONG_PASSWORD)
    row = session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    assert row.used_at == frozen_now
    with pytest.raises(InvalidState):
        reset_services.reset_password(session, secret, "yet-another-secret-88")
    with pytest.raises(InvalidState):
        reset_services.check_reset_token(session, secret)
    assert (
        session.scalar(
            select(func.count(OutboxMail.id)).where(
                OutboxMail.subject == "Your password was changed"
            )
        )
        == 1
    )


def test_an_expired_link_is_refused(session, make_user, frozen_now):
    user = make_user()
    _link, secret = _request(session, user.email)
    clock.advance(timedelta(seconds=TTL - 1))
    assert reset_services.check_reset_token(session, secret).id == user.id
    clock.advance(timedelta(seconds=1))
    with pytest.raises(InvalidState):
        reset_services.check_reset_token(session, secret)
    with pytest.raises(InvalidState):
        reset_services.reset_password(session, secret, NEW_PASSWORD)
    assert services.authenticate(session, email=user.email, password=STRONG_PASSWORD)


def test_unknown_link_is_refused(session, make_user):
    make_user()
    with pytest.raises(InvalidState):
        reset_services.reset_password(session, "not-a-real-token", NEW_PASSWORD)


def test_a_weak_password_is_refused_and_the_link_stays_usable(session, make_user, frozen_now):
    user = make_user()
    _link, secret = _request(session, user.email)
    with pytest.raises(ValidationFailed) as refused:
        reset_services.reset_password(session, secret, "password1234")
    assert "new_password" in refused.value.field_errors
    assert reset_services.check_reset_token(session, secret).id == user.id
    reset_services.reset_password(session, secret, NEW_PASSWORD)


def test_only_the_newest_link_works(session, make_user, frozen_now):
    user = make_user()
    _l1, first = _request(session, user.email)
    _l2, second = _request(session, user.email)
    with pytest.raises(InvalidState):
        reset_services.check_reset_token(session, first)
    reset_services.reset_password(session, second, NEW_PASSWORD)


def test_a_link_of_one_person_never_changes_another(session, make_user, frozen_now):
    ann, bob = make_user(), make_user()
    _link, secret = _request(session, ann.email)
    reset_services.reset_password(session, secret, NEW_PASSWORD)
    assert services.authenticate(session, email=bob.email, password=STRONG_PASSWORD).id == bob.id
