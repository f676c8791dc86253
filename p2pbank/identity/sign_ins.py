"""Server-side sign-ins: each signed-in browser holds a random key (in its signed session
cookie) naming one `SignIn` row. Signing out ends the row, so a copied cookie stops working
at once; a password change or reset ends every row of the person."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.identity import tokens
from p2pbank.identity.models import SignIn, User


def start(session: Session, user_id: int) -> str:
    """Open a sign-in and return its key (shown to the browser only, stored hashed)."""
    key = tokens.new_url_token()
    session.add(SignIn(user_id=user_id, key_hash=tokens.token_hash(key)))
    session.commit()
    return key


def user_for(session: Session, key: str) -> User | None:
    """The person an open sign-in belongs to: one lookup by the unique key hash."""
    if not key or len(key) > 128:
        return None
    user = session.scalar(
        select(User)
        .join(SignIn, SignIn.user_id == User.id)
        .where(SignIn.key_hash == tokens.token_hash(key), SignIn.ended_at.is_(None))
    )
    if user is not None:
        user.sign_in_key = key
    return user


def end(session: Session, key: str) -> None:
    """Sign-out: this session only."""
    session.execute(
        update(SignIn)
        .where(SignIn.key_hash == tokens.token_hash(key), SignIn.ended_at.is_(None))
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )
    session.commit()


def end_all(session: Session, user_id: int) -> None:
    """Every session of the person ends; flush-only, it joins the caller's command."""
    session.execute(
        update(SignIn)
        .where(SignIn.user_id == user_id, SignIn.ended_at.is_(None))
        .values(ended_at=now())
        .execution_options(synchronize_session=False)
    )
