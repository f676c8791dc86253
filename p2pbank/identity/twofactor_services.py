"""Two-factor sign-in use cases: enrol, confirm, sign in with a code or a recovery code,
regenerate recovery codes, turn off. Each takes the session first and commits once."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from p2pbank.clock import now
from p2pbank.errors import Conflict, Forbidden, InvalidState, Unauthorized, ValidationFailed
from p2pbank.identity import sign_ins, tokens, twofactor
from p2pbank.identity.models import OutboxMail, RecoveryCode, User
from p2pbank.identity.services import get_user

WRONG_CODE = "The code is wrong, expired or was already used."


@dataclass(frozen=True)
class SecondFactor:
    """How a sign-in's second factor was given, and what is left of the recovery codes."""

    method: str  # "totp" or "recovery"
    recovery_codes_left: int


def start_enrolment(session: Session, user_id: int, *, secret: str | None = None) -> str:
    """Create a new secret for the person's authenticator app. Two-factor sign-in is not on
    until `confirm_enrolment` sees a code made from it. Starting again replaces the secret.
    `secret` is for demo data only (a known key printed next to the demo password); pages and
    API never pass it."""
    user = get_user(session, user_id)
    if user.totp_enabled:
        raise Conflict("Two-factor sign-in is already on.")
    if secret is not None and not twofactor.is_valid_secret(secret):
        raise ValidationFailed("A secret is base32 and at least 128 bits long.")
    user.totp_secret = secret or twofactor.new_secret()
    user.totp_last_step = None
    session.commit()
    return user.totp_secret


def enrolment_uri(session: Session, user_id: int) -> str:
    """The otpauth:// URI of a started, unconfirmed enrolment (for the QR code)."""
    user = get_user(session, user_id)
    if not user.totp_pending:
        raise InvalidState("Start setting up two-factor sign-in first.")
    return twofactor.provisioning_uri(user.totp_secret or "", user.email)


def confirm_enrolment(session: Session, user_id: int, code: str) -> list[str]:
    """Turn two-factor sign-in on once a code from the app proves it has the secret.
    Returns ten fresh recovery codes, shown once; other sessions of the person end."""
    user = get_user(session, user_id)
    if user.totp_enabled:
        raise Conflict("Two-factor sign-in is already on.")
    if not user.totp_pending:
        raise InvalidState("Start setting up two-factor sign-in first.")
    step = twofactor.matching_step(user.totp_secret or "", code, now(), None)
    if step is None:
        raise ValidationFailed(WRONG_CODE, field_errors={"code": [WRONG_CODE]})
    user.totp_enabled_at = now()
    user.totp_last_step = step
    user.session_epoch += 1
    sign_ins.end_all(session, user.id)  # every signed-in browser of the person
    codes = _replace_recovery_codes(session, user)
    session.add(
        OutboxMail(
            to_address=user.email,
            subject="Two-factor sign-in is on",
            body=(
                "Two-factor sign-in was turned on for your p2pbank account. From now on you "
                "sign in with your password and a code from your authenticator app."
            ),
        )
    )
    session.commit()
    return codes


def verify_second_factor(session: Session, user_id: int, code: str) -> SecondFactor:
    """Check a sign-in's second factor: a six-digit code from the app (never accepted twice)
    or an unused recovery code (used up now). Unauthorized when neither matches."""
    user = get_user(session, user_id)
    if not user.totp_enabled:
        raise InvalidState("Two-factor sign-in is not on for this account.")
    method = _use_second_factor(session, user, code)
    if method is None:
        session.rollback()
        raise Unauthorized(WRONG_CODE)
    left = recovery_codes_left(session, user.id)
    session.commit()
    return SecondFactor(method=method, recovery_codes_left=left)


def regenerate_recovery_codes(session: Session, user_id: int, code: str) -> list[str]:
    """Replace every recovery code with ten new ones, after a current second factor."""
    user = get_user(session, user_id)
    if not user.totp_enabled:
        raise InvalidState("Two-factor sign-in is not on for this account.")
    if _use_second_factor(session, user, code) is None:
        session.rollback()
        raise ValidationFailed(WRONG_CODE, field_errors={"code": [WRONG_CODE]})
    codes = _replace_recovery_codes(session, user)
    session.commit()
    return codes


def disable(session: Session, user_id: int, code: str) -> User:
    """Turn two-factor sign-in off, after a current second factor. Auditors and admins
    cannot: their roles require it."""
    user = get_user(session, user_id)
    if not user.totp_enabled:
        raise InvalidState("Two-factor sign-in is not on for this account.")
    if user.two_factor_required:
        raise Forbidden("Auditors and admins must keep two-factor sign-in on.")
    if _use_second_factor(session, user, code) is None:
        session.rollback()
        raise ValidationFailed(WRONG_CODE, field_errors={"code": [WRONG_CODE]})
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.session_epoch += 1
    sign_ins.end_all(session, user.id)  # every signed-in browser of the person
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    session.add(
        OutboxMail(
            to_address=user.email,
            subject="Two-factor sign-in is off",
            body=(
                "Two-factor sign-in was turned off for your p2pbank account. If this was not "
                "you, reset your password and turn it on again."
            ),
        )
    )
    session.commit()
    return user


def cancel_enrolment(session: Session, user_id: int) -> User:
    """Forget a started, unconfirmed enrolment (the secret was never proven)."""
    user = get_user(session, user_id)
    if user.totp_pending:
        user.totp_secret = None
        user.totp_last_step = None
        session.commit()
    return user


def recovery_codes_left(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(RecoveryCode.id)).where(
                RecoveryCode.user_id == user_id, RecoveryCode.used_at.is_(None)
            )
        )
        or 0
    )


# --- internals (flush only; the public command commits) ------------------------------------


def _use_second_factor(session: Session, user: User, code: str) -> str | None:
    """Consume a TOTP step or a recovery code; None when the code is not valid now."""
    if twofactor.normalize_code(code) is not None:
        return "totp" if _use_totp(session, user, code) else None
    recovery = twofactor.normalize_recovery_code(code)
    if recovery is not None and _use_recovery_code(session, user, recovery):
        return "recovery"
    return None


def _use_totp(session: Session, user: User, code: str) -> bool:
    step = twofactor.matching_step(user.totp_secret or "", code, now(), user.totp_last_step)
    if step is None:
        return False
    # Conditional: of two requests racing with the same code, exactly one moves the step.
    moved = session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if moved.rowcount != 1:
        return False
    set_committed_value(user, "totp_last_step", step)  # the database already holds it
    return True


def _use_recovery_code(session: Session, user: User, canonical: str) -> bool:
    row_id = session.scalar(
        select(RecoveryCode.id).where(
            RecoveryCode.user_id == user.id,
            RecoveryCode.code_hash == tokens.token_hash(canonical),
            RecoveryCode.used_at.is_(None),
        )
    )
    if row_id is None:
        return False
    used = session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == row_id, RecoveryCode.used_at.is_(None))
        .values(used_at=now())
        .execution_options(synchronize_session="fetch")
    )
    return used.rowcount == 1


def _replace_recovery_codes(session: Session, user: User) -> list[str]:
    session.execute(
        delete(RecoveryCode)
        .where(RecoveryCode.user_id == user.id)
        .execution_options(synchronize_session="fetch")
    )
    codes = [tokens.new_recovery_code() for _ in range(twofactor.RECOVERY_CODE_COUNT)]
    session.add_all(
        RecoveryCode(user_id=user.id, code_hash=tokens.token_hash(code)) for code in codes
    )
    session.flush()
    return codes
