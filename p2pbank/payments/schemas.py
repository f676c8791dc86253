"""Input and output shapes for payments (marshmallow, no framework). Money is always an
integer number of minor units (cents) with its currency."""

from __future__ import annotations

from marshmallow import Schema, fields, validate

from p2pbank.amount_field import AmountText
from p2pbank.payments.rules import DEFAULT_MAX_DEPOSIT_MINOR

MAX_MINOR = 10**12
KEY = validate.Length(min=1, max=200)


class DepositIn(Schema):
    amount_minor = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_MINOR)
    )
    currency = fields.String(load_default="EUR", validate=validate.OneOf(["EUR"]))
    idempotency_key = fields.String(required=True, validate=KEY)


class DepositForm(Schema):
    amount = AmountText(required=True)
    idempotency_key = fields.String(required=True, validate=KEY)


class TestCardIn(Schema):
    __test__ = False  # not a pytest test class

    card_number = fields.String(required=True, validate=validate.Length(min=12, max=23))


class AuthenticationForm(Schema):
    outcome = fields.String(required=True, validate=validate.OneOf(["complete", "fail"]))


class WithdrawalIn(Schema):
    amount_minor = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=MAX_MINOR)
    )
    currency = fields.String(load_default="EUR", validate=validate.OneOf(["EUR"]))
    idempotency_key = fields.String(required=True, validate=KEY)
    totp_code = fields.String(load_default=None, validate=validate.Length(max=32))


class WithdrawalForm(Schema):
    amount = AmountText(required=True)
    idempotency_key = fields.String(required=True, validate=KEY)
    totp_code = fields.String(load_default=None, validate=validate.Length(max=32))


class TestBankIn(Schema):
    __test__ = False

    iban = fields.String(required=True, validate=validate.Length(min=15, max=42))


class OnboardIn(Schema):
    refresh_url = fields.Url(required=True, require_tld=False)
    return_url = fields.Url(required=True, require_tld=False)


class RefundIn(Schema):
    amount_minor = fields.Integer(
        required=True, strict=True, validate=validate.Range(min=1, max=DEFAULT_MAX_DEPOSIT_MINOR)
    )
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    idempotency_key = fields.String(required=True, validate=KEY)


class RefundForm(Schema):
    payment_id = fields.Integer(required=True, strict=False, validate=validate.Range(min=1))
    amount = AmountText(required=True)
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))
    idempotency_key = fields.String(required=True, validate=KEY)


class ReconcileArgs(Schema):
    since = fields.DateTime(load_default=None)


class DepositOut(Schema):
    id = fields.Integer()
    status = fields.String()
    amount_minor = fields.Integer()
    currency = fields.String()
    fee_minor = fields.Integer(allow_none=True)
    gateway = fields.String()
    gateway_payment_id = fields.String(allow_none=True)
    failure_code = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    succeeded_at = fields.DateTime(allow_none=True)


class DepositStartedOut(DepositOut):
    client_secret = fields.String(
        allow_none=True,
        metadata={"description": "For the payer's browser (Stripe.js); shown only now."},
    )


class WithdrawalOut(Schema):
    id = fields.Integer()
    status = fields.String()
    amount_minor = fields.Integer()
    currency = fields.String()
    gateway = fields.String()
    gateway_transfer_id = fields.String(allow_none=True)
    failure_message = fields.String(allow_none=True)
    created_at = fields.DateTime()
    paid_at = fields.DateTime(allow_none=True)


class PayoutAccountOut(Schema):
    gateway = fields.String()
    country = fields.String()
    payouts_enabled = fields.Boolean()
    details_submitted = fields.Boolean()
    bank_last4 = fields.String(allow_none=True)
    last_bank_payout_status = fields.String(allow_none=True)
    last_bank_payout_message = fields.String(allow_none=True)


class OnboardingOut(Schema):
    onboarding_url = fields.String()


class RefundOut(Schema):
    id = fields.Integer()
    payment_id = fields.Integer()
    status = fields.String()
    amount_minor = fields.Integer()
    currency = fields.String()
    gateway_refund_id = fields.String(allow_none=True)
    failure_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()


class ReconLineOut(Schema):
    kind = fields.String()
    gateway_id = fields.String()
    status = fields.String()
    currency = fields.String()
    gateway_minor = fields.Integer(allow_none=True)
    ledger_minor = fields.Integer(allow_none=True)
    entry_ids = fields.List(fields.Integer())
    note = fields.String()


class ReconReportOut(Schema):
    gateway = fields.String()
    since = fields.DateTime(allow_none=True)
    ok = fields.Boolean()
    counts = fields.Dict(keys=fields.String(), values=fields.Integer())
    lines = fields.List(fields.Nested(ReconLineOut))
