"""People, their roles, credentials and KYC status."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from p2pbank.clock import now
from p2pbank.db import Base, UTCDateTime
from p2pbank.errors import InvalidState
from p2pbank.identity.rules import (  # re-exported: the models speak the rules' vocabulary
    KYC_TRANSITIONS,
    PRIVILEGED_ROLES,
    SELF_SERVICE_ROLES,
    KycStatus,
    Role,
)
from p2pbank.identity.rules import (
    two_factor_required as _needs_two_factor,
)
from p2pbank.permissions import Permission, may

__all__ = [
    "KYC_TRANSITIONS",
    "PRIVILEGED_ROLES",
    "SELF_SERVICE_ROLES",
    "ApiToken",
    "KycChange",
    "KycStatus",
    "OutboxMail",
    "PasswordResetToken",
    "RecoveryCode",
    "Role",
    "RoleGrant",
    "SignIn",
    "SignUpRequest",
    "User",
    "UserRole",
]


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "kyc_status IN ('unverified','pending','verified','rejected')", name="kyc_status"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    locale: Mapped[str | None] = mapped_column(String(8))
    kyc_status: Mapped[str] = mapped_column(String(16), default=KycStatus.UNVERIFIED)
    # Set at enrolment; two-factor sign-in is on only once `totp_enabled_at` is set too.
    totp_secret: Mapped[str | None] = mapped_column(String(64))
    totp_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last 30-second time step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column()
    # Bumped on password change / 2FA change (which also end every SignIn): a two-factor
    # challenge begun before the change is abandoned.
    session_epoch: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )

    # The session-user protocol (is_authenticated, get_id, ...) kept here without a
    # framework import. The session cookie carries the key of a `SignIn` row, never the
    # user id: ending the row (sign-out, password change) ends that session on the server.
    is_authenticated = True
    is_active = True
    is_anonymous = False
    sign_in_key = ""  # set when loaded for a sign-in; not a column

    def get_id(self) -> str:
        return self.sign_in_key

    @property
    def role_names(self) -> frozenset[str]:
        return frozenset(r.role for r in self.roles)

    def has_role(self, role: Role | str) -> bool:
        return str(role) in self.role_names

    def may(self, permission: Permission) -> bool:
        """Whether one of the person's roles grants the permission."""
        return may(self.role_names, permission)

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    @property
    def totp_pending(self) -> bool:
        """Enrolment started (a secret exists) but not yet confirmed with a code."""
        return self.totp_secret is not None and self.totp_enabled_at is None

    @property
    def two_factor_required(self) -> bool:
        return _needs_two_factor(self.role_names)

    @property
    def two_factor_missing(self) -> bool:
        """Holds a role that needs two-factor sign-in but has not turned it on yet."""
        return self.two_factor_required and not self.totp_enabled

    @property
    def kyc_verified(self) -> bool:
        return self.kyc_status == KycStatus.VERIFIED

    def move_kyc(self, target: KycStatus) -> None:
        current = KycStatus(self.kyc_status)
        if target not in KYC_TRANSITIONS[current]:
            raise InvalidState(f"KYC status cannot go from {current} to {target}")
        self.kyc_status = target


class SignIn(Base):
    """One signed-in browser session. Only the SHA-256 of its random key is stored; the
    key lives in the signed session cookie. A row with `ended_at` opens nothing."""

    __tablename__ = "sign_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class UserRole(Base):
    """The roles a person holds now; history lives in `role_grants`."""

    __tablename__ = "user_roles"
    __table_args__ = (UniqueConstraint("user_id", "role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))
    user: Mapped[User] = relationship(back_populates="roles")


class RoleGrant(Base):
    """Append-only record of every role granted or revoked, and by whom."""

    __tablename__ = "role_grants"
    __table_args__ = (CheckConstraint("action IN ('grant','revoke')", name="action"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    action: Mapped[str] = mapped_column(String(8))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class KycChange(Base):
    """Append-only record of KYC decisions with the reason given."""

    __tablename__ = "kyc_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class ApiToken(Base):
    """A personal API token; only its SHA-256 is stored, the secret is shown once."""

    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint("scope IN ('read','write')", name="scope"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class RecoveryCode(Base):
    """A single-use two-factor recovery code, stored hashed."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class PasswordResetToken(Base):
    """Single-use, expiring; only the hash is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class SignUpRequest(Base):
    """A sign-up waiting for its mailed link: the account exists only once the link is used,
    so the sign-up form never tells whether an address already has an account. The
    password is stored as its argon2 hash, the link's secret as its SHA-256."""

    __tablename__ = "sign_up_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    display_name: Mapped[str] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(200))
    roles: Mapped[str] = mapped_column(String(80), default="")  # comma-separated
    locale: Mapped[str | None] = mapped_column(String(8))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)


class OutboxMail(Base):
    """Mail to send, written in the same transaction as the change that causes it.

    The scheduled mail work (p2pbank.mail) delivers it: `queued` until sent, retried with
    back-off at `next_attempt_at` (empty: due now), `failed` after the last attempt (an
    admin can queue it again)."""

    __tablename__ = "outbox_mail"
    __table_args__ = (
        Index("ix_outbox_mail_unsent", "sent_at"),
        Index("ix_outbox_mail_due", "status", "next_attempt_at"),
        CheckConstraint("status IN ('queued','sent','failed')", name="status"),
        CheckConstraint("attempts >= 0", name="attempts"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    to_address: Mapped[str] = mapped_column(String(254))
    subject: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(String(5000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=now)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(8), default="queued", server_default="queued")
    attempts: Mapped[int] = mapped_column(default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(String(300))
