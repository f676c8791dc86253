"""Identity use cases: each takes the session first and commits once.

Two-factor sign-in lives in `twofactor_services`; read models for pages and API in `queries`.
"""

from __future__ import annotations

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from p2pbank.audit import services as audit
from p2pbank.clock import now
from p2pbank.errors import (
    Conflict,
    Forbidden,
    InvalidState,
    NotFound,
    Unauthorized,
    ValidationFailed,
)
from p2pbank.identity import passwords, rules, sign_ins, tokens
from p2pbank.identity.models import (
    PRIVILEGED_ROLES,
    SELF_SERVICE_ROLES,
    ApiToken,
    KycChange,
    KycStatus,
    OutboxMail,
    Role,
    RoleGrant,
    User,
    UserRole,
)
from p2pbank.notifications.services import notify
from p2pbank.permissions import Permission, require


def normalize_email(email: str) -> str:
    return email.strip().lower()


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("No such user.")
    return user


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == normalize_email(email)))


def sign_up(
    session: Session,
    *,
    email: str,
    display_name: str,
    password: str,
    roles: list[str] | tuple[str, ...] = (),
    locale: str | None = None,
) -> User:
    """Create an account at once (demo data, tests, admins' tools). People signing up on the
    site go through `signup_services`, which mails a link first."""
    email, wanted = check_sign_up(
        email=email, display_name=display_name, password=password, roles=roles
    )
    return create_account(
        session,
        email=email,
        display_name=display_name,
        password_hash=passwords.hash_password(password),
        roles=wanted,
        locale=locale,
    )


def check_sign_up(
    *, email: str, display_name: str, password: str, roles: list[str] | tuple[str, ...]
) -> tuple[str, set[Role]]:
    """Refuse a weak password or a privileged role; return the normalized address and
    roles. Says nothing about whether the address has an account."""
    email = normalize_email(email)
    problems = passwords.policy_errors(password, email=email, display_name=display_name)
    if problems:
        raise ValidationFailed("The password was refused.", field_errors={"password": problems})
    wanted = {_role(r) for r in roles}
    if not wanted <= SELF_SERVICE_ROLES:
        raise Forbidden("Auditor and admin roles are granted only by an admin.")
    return email, wanted


def create_account(
    session: Session,
    *,
    email: str,
    display_name: str,
    password_hash: str,
    roles: set[Role],
    locale: str | None,
) -> User:
    """Write the account and its self-service roles; Conflict when the address is taken."""
    if find_user_by_email(session, email) is not None:
        raise Conflict(
            "An account with this e-mail address exists.",
            field_errors={"email": ["An account with this e-mail address exists."]},
        )
    user = User(
        email=email,
        display_name=display_name.strip(),
        password_hash=password_hash,
        locale=locale,
    )
    session.add(user)
    session.flush()
    for role in sorted(roles):
        _grant(session, user, role, by=None, reason="self-service at sign-up")
    try:
        session.commit()
    except IntegrityError as exc:  # a concurrent sign-up with the same e-mail won
        session.rollback()
        raise Conflict("An account with this e-mail address exists.") from exc
    return user


def authenticate(session: Session, *, email: str, password: str) -> User:
    """Check the password (constant work for unknown e-mails) and upgrade old hashes."""
    user = find_user_by_email(session, email)
    if user is None:
        passwords.verify_unknown_account(password)
        raise Unauthorized("E-mail address or password is wrong.")
    if not passwords.verify_password(user.password_hash, password):
        raise Unauthorized("E-mail address or password is wrong.")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
        session.commit()
    return user


def change_password(session: Session, user_id: int, *, current: str, new: str) -> User:
    user = get_user(session, user_id)
    if not passwords.verify_password(user.password_hash, current):
        raise ValidationFailed(
            "The current password is wrong.",
            field_errors={"current_password": ["The current password is wrong."]},
        )
    problems = passwords.policy_errors(new, email=user.email, display_name=user.display_name)
    if problems:
        raise ValidationFailed(
            "The new password was refused.", field_errors={"new_password": problems}
        )
    replace_password(session, user, new)
    session.add(
        OutboxMail(
            to_address=user.email,
            subject="Your password was changed",
            body=(
                "Your p2pbank password was changed; your other signed-in sessions were "
                "ended and your API tokens revoked. If this was not you, reset it now."
            ),
        )
    )
    session.commit()
    return user


def replace_password(session: Session, user: User, new: str) -> None:
    """Set a new password and end everything the old one opened: every signed-in browser
    and every API token (whoever knew the old password may have made one). Flush-only."""
    moment = now()
    user.password_hash = passwords.hash_password(new)
    user.session_epoch += 1
    sign_ins.end_all(session, user.id)
    session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=moment)
        .execution_options(synchronize_session="fetch")
    )


def _role(name: str) -> Role:
    if not rules.is_role(name):
        raise ValidationFailed(
            "No such role.", field_errors={"role": [f"Must be one of: {', '.join(Role)}."]}
        )
    return Role(name)


def _grant(session: Session, user: User, role: Role, *, by: User | None, reason: str) -> None:
    if user.has_role(role):
        return
    user.roles.append(UserRole(role=str(role)))
    session.add(
        RoleGrant(
            user_id=user.id,
            role=str(role),
            action="grant",
            granted_by_id=by.id if by else None,
            reason=reason,
        )
    )
    audit.append(
        session,
        type="role.granted",
        subject_user_id=user.id,
        payload={"role": str(role), "granted_by": audit.pseudonym(session, by.id) if by else None},
    )


def take_role(session: Session, user_id: int, role: str) -> User:
    """A person adds a self-service role (lender, borrower, initiator, backer) to themselves."""
    user = get_user(session, user_id)
    wanted = _role(role)
    if not rules.may_take_role(wanted):
        raise Forbidden("Auditor and admin roles are granted only by an admin.")
    _grant(session, user, wanted, by=user, reason="self-service")
    session.commit()
    return user


def grant_role(
    session: Session, actor_id: int | None, user_id: int, role: str, reason: str
) -> User:
    """An admin (or the CLI, actor None) grants any role; recorded with who and why."""
    actor = get_user(session, actor_id) if actor_id is not None else None
    if actor is not None and not rules.may_grant_role(actor.role_names):
        raise Forbidden("Only an admin can grant roles.")
    user = get_user(session, user_id)
    wanted = _role(role)
    if not reason.strip() and (wanted in PRIVILEGED_ROLES or actor is not None):
        raise ValidationFailed("Give a reason.", field_errors={"reason": ["Give a reason."]})
    _grant(session, user, wanted, by=actor, reason=reason.strip() or "granted")
    notify(session, user.id, "role_granted", {"role": str(wanted)}, "/settings/roles")
    session.commit()
    return user


def revoke_role(
    session: Session, actor_id: int | None, user_id: int, role: str, reason: str
) -> User:
    """An admin revokes a role (with a reason), or a person drops a self-service role."""
    actor = get_user(session, actor_id) if actor_id is not None else None
    user = get_user(session, user_id)
    wanted = _role(role)
    if actor is not None and not rules.may_revoke_role(actor.id, actor.role_names, user.id, role):
        if actor.id == user.id:
            raise Forbidden("Privileged roles are revoked by another admin.")
        raise Forbidden("Only an admin can revoke another person's roles.")
    if actor is not None and actor.id != user.id and not reason.strip():
        raise ValidationFailed("Give a reason.", field_errors={"reason": ["Give a reason."]})
    for held in list(user.roles):
        if held.role == str(wanted):
            user.roles.remove(held)
            session.add(
                RoleGrant(
                    user_id=user.id,
                    role=str(wanted),
                    action="revoke",
                    granted_by_id=actor.id if actor else None,
                    reason=reason.strip() or "self-service",
                )
            )
    session.commit()
    return user


def create_api_token(
    session: Session, user_id: int, *, name: str, scope: str
) -> tuple[ApiToken, str]:
    """Return the token row and the secret, which is never stored and shown only now."""
    if scope not in ("read", "write"):
        raise ValidationFailed(
            "Scope must be read or write.", field_errors={"scope": ["Must be read or write."]}
        )
    user = get_user(session, user_id)
    secret = tokens.new_api_token()
    row = ApiToken(
        user_id=user.id,
        name=name.strip(),
        token_hash=tokens.token_hash(secret),
        prefix=secret[:9],
        scope=scope,
    )
    session.add(row)
    session.commit()
    return row, secret


def list_api_tokens(session: Session, user_id: int) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id.desc())
        )
    )


def revoke_api_token(session: Session, user_id: int, token_id: int) -> ApiToken:
    row = session.get(ApiToken, token_id)
    if row is None or row.user_id != user_id:
        raise NotFound("No such token.")  # another person's token is indistinguishable
    if row.revoked_at is None:
        row.revoked_at = now()
        session.commit()
    return row


def user_for_api_token(session: Session, secret: str) -> tuple[User, ApiToken]:
    """Resolve a bearer token; records last use. Raises Unauthorized for any bad token."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == tokens.token_hash(secret)))
    if row is None or row.revoked_at is not None:
        raise Unauthorized("The API token is unknown or revoked.")
    user = get_user(session, row.user_id)
    if user.two_factor_missing:
        raise Forbidden(
            "Auditors and admins must turn on two-factor sign-in before using the API: "
            "open Settings, Two-factor sign-in, in the browser."
        )
    row.last_used_at = now()
    session.commit()
    return user, row


def count_users(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def set_kyc_status(
    session: Session, actor_id: int | None, user_id: int, status: str, reason: str
) -> User:
    """An admin (or the CLI, actor None) moves a person's KYC status, with a reason."""
    actor = get_user(session, actor_id) if actor_id is not None else None
    if actor is not None:
        require(
            actor.role_names, Permission.MANAGE_PEOPLE, "Only an admin decides identity checks."
        )
    if not reason.strip():
        raise ValidationFailed("Give a reason.", field_errors={"reason": ["Give a reason."]})
    user = get_user(session, user_id)
    if status not in {s.value for s in KycStatus}:
        raise ValidationFailed(
            "No such KYC status.", field_errors={"status": ["Not a KYC status."]}
        )
    before = user.kyc_status
    user.move_kyc(KycStatus(status))
    session.add(
        KycChange(
            user_id=user.id,
            from_status=before,
            to_status=status,
            decided_by_id=actor.id if actor else None,
            reason=reason.strip(),
        )
    )
    if status == KycStatus.VERIFIED:
        audit.append(
            session, type="kyc.verified", subject_user_id=user.id, payload={"from": before}
        )
    if status in (KycStatus.VERIFIED, KycStatus.REJECTED):
        notify(session, user.id, f"kyc_{status}", {}, "/settings")
    session.commit()
    return user


def request_kyc_review(session: Session, user_id: int) -> User:
    """A person asks for their identity check (again): unverified or rejected -> pending."""
    user = get_user(session, user_id)
    if not rules.may_request_kyc_review(user.kyc_status):
        raise InvalidState(
            "A review can be requested only when the identity check is not done or was "
            f"rejected; it is {user.kyc_status}."
        )
    before = user.kyc_status
    user.move_kyc(KycStatus.PENDING)
    session.add(
        KycChange(
            user_id=user.id,
            from_status=before,
            to_status=KycStatus.PENDING,
            decided_by_id=user.id,
            reason="review requested by the person",
        )
    )
    session.commit()
    return user


def set_locale(session: Session, user_id: int, locale: str | None) -> User:
    """The person's language for pages and mail; None follows the browser."""
    if locale is not None and locale not in rules.SUPPORTED_LOCALES:
        raise ValidationFailed(
            "This language is not available.",
            field_errors={"locale": [f"Must be one of: {', '.join(rules.SUPPORTED_LOCALES)}."]},
        )
    user = get_user(session, user_id)
    user.locale = locale
    session.commit()
    return user
