"""Input and output shapes for identity (marshmallow, no framework)."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from p2pbank.identity.models import SELF_SERVICE_ROLES
from p2pbank.identity.passwords import MAX_LENGTH


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
