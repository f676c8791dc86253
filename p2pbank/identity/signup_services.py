"""Sign-up by a mailed link, so that the form never tells whether an address has an
account: every valid request gets the same answer, and the mail goes to the address.
A new address gets a single-use link that creates the account; an address that already
has one gets a "someone tried to sign up with your address" mail instead."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.errors import Conflict, InvalidState
from p2pbank.identity import mails, passwords, tokens
from p2pbank.identity.models import Role, SignUpRequest, User
from p2pbank.identity.services import check_sign_up, create_account, find_user_by_email

SIGN_UP_LINK_INVALID = "This sign-up link is not valid: it is unknown, already used or expired."


def request_sign_up(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    roles: list[str] | tuple[str, ...] = (),
    locale: str | None = None,
    language: str | None = None,
    ttl_seconds: int,
    link_for: Callable[[str], str],
    sign_in_link: str,
    reset_link: str,
) -> str | None:
    """Mail the address either a link that finishes the sign-up (returned, so a development
    server can log it) or, when it has an account, a warning with links to sign in or reset
    the password (None). Both paths hash the password and write one mail, so neither the
    answer nor its timing tells them apart. Weak passwords and privileged roles are still
    refused at once: that says nothing about other people. The link's mail is in
    `language`, the asking page's (there is no account yet to say otherwise)."""
    email, wanted = check_sign_up(
        email=email, display_name=display_name, password=password, roles=roles
    )
    password_hash = passwords.hash_password(password)
    existing = find_user_by_email(session, email)
    if existing is not None:
        _mail_existing_account(session, existing, sign_in_link, reset_link, language)
        session.commit()
        return None
    moment = now()
    _expire_requests(session, email, moment)
    secret = tokens.new_url_token()
    session.add(
        SignUpRequest(
            email=email,
            display_name=display_name.strip(),
            password_hash=password_hash,
            roles=",".join(sorted(wanted)),
            locale=locale,
            token_hash=tokens.token_hash(secret),
            expires_at=moment + timedelta(seconds=ttl_seconds),
        )
    )
    link = link_for(secret)
    hours = max(1, ttl_seconds // 3600)
    session.add(
        mails.written(
            email, language, mails.SIGN_UP, name=display_name.strip(), hours=hours, link=link
        )
    )
    session.commit()
    return link


def _mail_existing_account(
    session: Session, user: User, sign_in: str, reset: str, language: str | None
) -> None:
    """In the account's saved language, else the asking page's."""
    session.add(
        mails.written(
            user.email,
            user.locale or language,
            mails.TAKEN,
            name=user.display_name,
            sign_in=sign_in,
            reset=reset,
        )
    )


def _expire_requests(session: Session, email: str, moment) -> None:
    """Only the newest link for an address works."""
    session.execute(
        update(SignUpRequest)
        .where(
            SignUpRequest.email == email,
            SignUpRequest.used_at.is_(None),
            SignUpRequest.expires_at > moment,
        )
        .values(expires_at=moment)
        .execution_options(synchronize_session=False)
    )


def _open_request(session: Session, secret: str) -> SignUpRequest | None:
    row = session.scalar(
        select(SignUpRequest).where(SignUpRequest.token_hash == tokens.token_hash(secret))
    )
    if row is None or row.used_at is not None or row.expires_at <= now():
        return None
    return row


def check_sign_up_link(session: Session, secret: str) -> SignUpRequest:
    """The sign-up a link belongs to (reads only); InvalidState when unknown, used or
    expired."""
    row = _open_request(session, secret)
    if row is None:
        raise InvalidState(SIGN_UP_LINK_INVALID)
    return row


def confirm_sign_up(session: Session, secret: str) -> User:
    """Use the link: the account is created as it was asked for, and the link is used up.
    A link for an address that got an account meanwhile is invalid."""
    row = check_sign_up_link(session, secret)
    moment = now()
    # Conditional, so two clicks racing with the same link cannot both use it.
    used = session.execute(
        update(SignUpRequest)
        .where(SignUpRequest.id == row.id, SignUpRequest.used_at.is_(None))
        .values(used_at=moment)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        session.rollback()
        raise InvalidState(SIGN_UP_LINK_INVALID)
    try:
        return create_account(
            session,
            email=row.email,
            display_name=row.display_name,
            password_hash=row.password_hash,
            roles={Role(name) for name in row.roles.split(",") if name},
            locale=row.locale,
        )
    except Conflict:
        session.rollback()
        raise InvalidState(SIGN_UP_LINK_INVALID) from None
