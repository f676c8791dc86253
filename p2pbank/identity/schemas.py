"""Input and output shapes for identity (marshmallow, no framework)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from p2pbank.identity.models import SELF_SERVICE_ROLES
from p2pbank.identity.passwords import MAX_LENGTH
from p2pbank.identity.rules import SUPPORTED_LOCALES, KycStatus, Role

_NOT_BLANK = validate.Regexp(r"(?s).*\S", error="Give a reason.")


class SignUpIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))
    display_name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(max=MAX_LENGTH)
    )
    roles = fields.List(
        fields.String(validate=validate.OneOf(sorted(SELF_SERVICE_ROLES))),
        load_default=list,
        validate=validate.Length(max=4),
    )


class SignInIn(Schema):
    email = fields.String(required=True, validate=validate.Length(min=3, max=254))
    password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )


class ChangePasswordIn(Schema):
    current_password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH))
    new_password = fields.String(required=True, validate=validate.Length(max=MAX_LENGTH))


class TokenIn(Schema):
    name = fields.String(required=True, validate=validate.Length(min=1, max=80))
    scope = fields.String(required=True, validate=validate.OneOf(["read", "write"]))


class TokenOut(Schema):
    id = fields.Integer()
    name = fields.String()
    prefix = fields.String()
    scope = fields.String()
    created_at = fields.DateTime()
    last_used_at = fields.DateTime(allow_none=True)
    revoked_at = fields.DateTime(allow_none=True)


class TokenCreatedOut(TokenOut):
    token = fields.String(metadata={"description": "The secret; shown only in this response."})


class UserOut(Schema):
    id = fields.Integer()
    email = fields.String()
    display_name = fields.String()
    roles = fields.Method("_roles")
    kyc_status = fields.String()
    two_factor_enabled = fields.Boolean(attribute="totp_enabled")
    created_at = fields.DateTime()

    def _roles(self, user) -> list[str]:
        return sorted(user.role_names)


# --- two-factor, password reset, settings --------------------------------------------------


class CodeIn(Schema):
    """A six-digit code from the authenticator app, or a recovery code."""

    code = fields.String(required=True, validate=validate.Length(min=1, max=32))


class ResetRequestIn(Schema):
    email = fields.Email(required=True, validate=validate.Length(max=254))


class ResetPasswordIn(Schema):
    new_password = fields.String(
        required=True, load_only=True, validate=validate.Length(min=1, max=MAX_LENGTH)
    )


class LocaleIn(Schema):
    """A language code, or empty to follow the browser."""

    locale = fields.String(required=True, validate=validate.OneOf(["", *SUPPORTED_LOCALES]))


class TakeRoleIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf(sorted(SELF_SERVICE_ROLES)))


# --- admin ---------------------------------------------------------------------------------


class AdminRoleIn(Schema):
    role = fields.String(required=True, validate=validate.OneOf([r.value for r in Role]))
    action = fields.String(required=True, validate=validate.OneOf(["grant", "revoke"]))
    reason = fields.String(required=True, validate=[validate.Length(max=500), _NOT_BLANK])


class AdminKycIn(Schema):
    status = fields.String(required=True, validate=validate.OneOf([s.value for s in KycStatus]))
    reason = fields.String(required=True, validate=[validate.Length(max=500), _NOT_BLANK])


class RoleChangeOut(Schema):
    role = fields.String()
    action = fields.String()
    reason = fields.String()
    by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class KycDecisionOut(Schema):
    from_status = fields.String()
    to_status = fields.String()
    reason = fields.String()
    by_id = fields.Integer(allow_none=True)
    created_at = fields.DateTime()


class UserRolesOut(Schema):
    user_id = fields.Integer()
    roles = fields.List(fields.String())
    history = fields.List(fields.Nested(RoleChangeOut))


class UserKycOut(Schema):
    user_id = fields.Integer()
    status = fields.String()
    history = fields.List(fields.Nested(KycDecisionOut))
