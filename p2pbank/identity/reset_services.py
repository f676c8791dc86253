"""Password reset by a single-use, expiring link: the link's secret is mailed (through the
outbox, in the same transaction) and only its SHA-256 is stored."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.errors import InvalidState, ValidationFailed
from p2pbank.identity import mails, passwords, tokens
from p2pbank.identity.models import PasswordResetToken, User
from p2pbank.identity.services import find_user_by_email, get_user, replace_password

RESET_LINK_INVALID = "This reset link is not valid: it is unknown, already used or expired."


def request_password_reset(
    session: Session,
    email: str,
    *,
    ttl_seconds: int,
    link_for: Callable[[str], str],
    language: str | None = None,
) -> str | None:
    """Mail a single-use reset link when the address has an account; return the link so a
    development server can log it. The caller answers the same either way (the answer must
    not tell whether an account exists). Unknown addresses write nothing. The mail is in
    the person's saved language, else in `language` (the asking page's)."""
    user = find_user_by_email(session, email)
    if user is None:
        return None
    moment = now()
    # Only the newest link works: earlier unused ones expire now.
    session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > moment,
        )
        .values(expires_at=moment)
        .execution_options(synchronize_session="fetch")
    )
    secret = tokens.new_url_token()
    session.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=tokens.token_hash(secret),
            expires_at=moment + timedelta(seconds=ttl_seconds),
        )
    )
    link = link_for(secret)
    minutes = max(1, ttl_seconds // 60)
    session.add(
        mails.written(
            user.email,
            user.locale or language,
            mails.RESET,
            name=user.display_name,
            minutes=minutes,
            link=link,
        )
    )
    session.commit()
    return link


def _reset_row(session: Session, secret: str) -> PasswordResetToken | None:
    row = session.scalar(
        select(PasswordResetToken).where(PasswordResetToken.token_hash == tokens.token_hash(secret))
    )
    if row is None or row.used_at is not None or row.expires_at <= now():
        return None
    return row


def check_reset_token(session: Session, secret: str) -> User:
    """The person a reset link belongs to; InvalidState when unknown, used or expired.
    Reads only: opening the link does not use it up."""
    row = _reset_row(session, secret)
    if row is None:
        raise InvalidState(RESET_LINK_INVALID)
    return get_user(session, row.user_id)


def reset_password(session: Session, secret: str, new_password: str) -> User:
    """Set a new password with a reset link: the link is used up, every other session of the
    person ends, and they are told by mail. A refused password leaves the link usable."""
    row = _reset_row(session, secret)
    if row is None:
        raise InvalidState(RESET_LINK_INVALID)
    user = get_user(session, row.user_id)
    problems = passwords.policy_errors(
        new_password, email=user.email, display_name=user.display_name
    )
    if problems:
        raise ValidationFailed(
            "The new password was refused.", field_errors={"new_password": problems}
        )
    moment = now()
    # Conditional, so two requests racing with the same link cannot both use it.
    used = session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.id == row.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > moment,
        )
        .values(used_at=moment)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        session.rollback()
        raise InvalidState(RESET_LINK_INVALID)
    session.execute(
        update(PasswordResetToken)
        .where(
            PasswordResetToken.user_id == user.id,
            PasswordResetToken.id != row.id,
            PasswordResetToken.used_at.is_(None),
            PasswordResetToken.expires_at > moment,
        )
        .values(expires_at=moment)
        .execution_options(synchronize_session="fetch")
    )
    replace_password(session, user, new_password)
    session.add(mails.written(user.email, user.locale, mails.CHANGED))
    session.commit()
    session.refresh(row)
    return user
