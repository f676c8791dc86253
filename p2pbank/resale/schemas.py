"""Marshmallow schemas of the secondary market: the API's inputs and outputs (cents and
basis points) and the pages' forms and filters (euros and percent, as people type them)."""

from __future__ import annotations

import re

from marshmallow import Schema, fields, validate

from p2pbank.lending.rules import GRADES
from p2pbank.lending.rules import POLICY as LENDING
from p2pbank.lending.schemas import EuroText, PercentText
from p2pbank.paging import PagedOut
from p2pbank.resale.read import LATENESS
from p2pbank.resale.rules import POLICY
from p2pbank.trust.schemas import BadgeOut

_PREMIUM = validate.Range(
    min=POLICY.min_premium_bps,
    max=POLICY.max_premium_bps,
    error="Enter a price from 20 % below to 10 % above the outstanding principal.",
)
_SIGNED_PERCENT = re.compile(r"^([+\-−]?)(\d{1,2})(?:[.,](\d{1,2}))?$")


class SignedPercentText(fields.Field):
    """'-5', '+2.5' or '0' (percent of the outstanding principal) -> basis points."""

    default_error_messages = {"invalid": "Enter a percent such as -5 or 2.5."}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        match = _SIGNED_PERCENT.match(value.strip()) if isinstance(value, str) else None
        if not match:
            raise self.make_error("invalid")
        bps = int(match.group(2)) * 100 + int((match.group(3) or "0").ljust(2, "0"))
        return -bps if match.group(1) in ("-", "−") else bps


def _optional_key() -> fields.String:
    """An idempotency key the caller may leave out (the service then makes one)."""
    return fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Idempotency key: a repeat with the same key does nothing new."},
    )


# --- API inputs ----------------------------------------------------------------------------


class OfferIn(Schema):
    premium_bps = fields.Integer(
        strict=True,
        required=True,
        validate=_PREMIUM,
        metadata={"description": "Premium (+) or discount (-) on the outstanding principal."},
    )
    idempotency_key = _optional_key()


class BuyIn(Schema):
    expected_total_minor = fields.Integer(
        strict=True,
        required=True,
        validate=validate.Range(min=1),
        metadata={"description": "The total you were quoted; a different price is refused."},
    )
    accept_late = fields.Boolean(load_default=False)
    idempotency_key = fields.String(required=True, validate=validate.Length(min=1, max=100))


class AutoResaleIn(Schema):
    enabled = fields.Boolean(required=True)


class OfferQuery(Schema):
    grade = fields.List(fields.String(validate=validate.OneOf(GRADES)), load_default=list)
    min_rate_bps = fields.Integer(load_default=None, validate=validate.Range(0, 10_000))
    max_premium_bps = fields.Integer(load_default=None, validate=_PREMIUM)
    max_price_minor = fields.Integer(load_default=None, validate=validate.Range(0, 10**12))
    lateness = fields.String(load_default="any", validate=validate.OneOf(LATENESS))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


class PageQuery(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


# --- page forms ----------------------------------------------------------------------------


class OfferForm(Schema):
    premium_bps = SignedPercentText(data_key="premium", required=True, validate=_PREMIUM)
    idempotency_key = _optional_key()


class OfferFilterForm(OfferQuery):
    min_rate_bps = PercentText(
        data_key="min_rate", load_default=None, validate=validate.Range(0, LENDING.rate_cap_bps)
    )
    max_premium_bps = SignedPercentText(
        data_key="max_premium", load_default=None, validate=_PREMIUM
    )
    max_price_minor = EuroText(
        data_key="max_price", load_default=None, validate=validate.Range(0, 10**12)
    )


# --- outputs -------------------------------------------------------------------------------


class ResaleQuoteOut(Schema):
    outstanding_minor = fields.Integer()
    premium_bps = fields.Integer()
    premium_minor = fields.Integer()
    price_minor = fields.Integer()
    accrued_minor = fields.Integer()
    total_minor = fields.Integer()
    fee_minor = fields.Integer()
    seller_gets_minor = fields.Integer()


class OfferOut(Schema):
    id = fields.Integer()
    part_id = fields.Integer()
    loan_id = fields.Integer()
    grade = fields.String()
    rate_bps = fields.Integer()
    premium_bps = fields.Integer()
    status = fields.String()
    loan_status = fields.String()
    days_past_due = fields.Integer()
    is_late = fields.Boolean()
    months_left = fields.Integer()
    next_due_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()
    is_own = fields.Boolean()
    currency = fields.String()
    quote = fields.Nested(ResaleQuoteOut, allow_none=True)
    borrower_badge = fields.Nested(BadgeOut, allow_none=True)


class OfferPageOut(PagedOut):
    offers = fields.List(fields.Nested(OfferOut))


class CreatedOfferOut(Schema):
    id = fields.Integer()
    part_id = fields.Integer()
    premium_bps = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()


class SaleOut(Schema):
    id = fields.Integer()
    offer_id = fields.Integer()
    part_id = fields.Integer()
    outstanding_minor = fields.Integer()
    premium_minor = fields.Integer()
    accrued_minor = fields.Integer()
    total_minor = fields.Integer()
    fee_minor = fields.Integer()
    days_past_due = fields.Integer()
    currency = fields.String()
    sold_at = fields.DateTime()


class TradeOut(Schema):
    offer_id = fields.Integer()
    part_id = fields.Integer()
    loan_id = fields.Integer()
    side = fields.String()
    status = fields.String()
    premium_bps = fields.Integer()
    created_at = fields.DateTime()
    total_minor = fields.Integer(allow_none=True)
    fee_minor = fields.Integer(allow_none=True)
    sold_at = fields.DateTime(allow_none=True)


class TradePageOut(PagedOut):
    trades = fields.List(fields.Nested(TradeOut))


class AutoResaleOut(Schema):
    order_id = fields.Integer()
    buys_resale = fields.Boolean()
