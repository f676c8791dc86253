"""Input and output shapes for lending (marshmallow, no framework).

The API takes money as strict integer cents (`*_minor`) and rates as strict integer basis
points (`*_bps`), each with its range. The page forms take what people type -- euros such
as "1,250.50" and percents such as "7.25" -- and load into the very same keys, exactly
(never through a float), so pages and API call the services with the same data."""

from __future__ import annotations

import re

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from p2pbank.amount_field import AmountText
from p2pbank.lending.rules import GRADES, POLICY, euros, percent

P = POLICY
TERMS = list(P.terms_months)
METHODS = ["annuity", "equal_principal"]
MAX_MINOR = 10**12


def _cents(minimum: int, maximum: int) -> validate.Range:
    return validate.Range(min=minimum, max=maximum)


def _euro_range(minimum: int, maximum: int) -> validate.Range:
    """A range in cents with a message in euros, for the page forms."""
    return validate.Range(
        min=minimum, max=maximum, error=f"Enter {euros(minimum)} to {euros(maximum)}."
    )


def _rate_range(minimum: int, maximum: int) -> validate.Range:
    return validate.Range(
        min=minimum,
        max=maximum,
        error=f"Enter a rate from {percent(minimum)} to {percent(maximum)}.",
    )


def Cents(**kw) -> fields.Integer:  # noqa: N802 - a field factory reads like a field
    return fields.Integer(strict=True, **kw)


def Bps(**kw) -> fields.Integer:  # noqa: N802
    return fields.Integer(strict=True, **kw)


def Key() -> fields.String:  # noqa: N802
    return fields.String(
        load_default=None,
        validate=validate.Length(min=1, max=100),
        metadata={"description": "Idempotency key: a repeat with the same key does nothing new."},
    )


# --- API inputs ----------------------------------------------------------------------------


class RequestIn(Schema):
    amount_minor = Cents(required=True, validate=_cents(P.min_amount_minor, P.max_amount_minor))
    term_months = fields.Integer(strict=True, required=True, validate=validate.OneOf(TERMS))
    max_rate_bps = Bps(required=True, validate=_cents(P.min_rate_bps, P.rate_cap_bps))
    purpose_category = fields.String(required=True, validate=validate.OneOf(P.purposes))
    purpose_text = fields.String(required=True, validate=validate.Length(min=10, max=500))
    method = fields.String(load_default="annuity", validate=validate.OneOf(METHODS))
    idempotency_key = Key()


class PreviewIn(Schema):
    amount_minor = Cents(required=True, validate=_cents(P.min_amount_minor, P.max_amount_minor))
    term_months = fields.Integer(strict=True, required=True, validate=validate.OneOf(TERMS))
    max_rate_bps = Bps(required=True, validate=_cents(P.min_rate_bps, P.rate_cap_bps))
    method = fields.String(load_default="annuity", validate=validate.OneOf(METHODS))


class OrderIn(Schema):
    amount_minor = Cents(required=True, validate=_cents(P.min_slice_minor, P.max_order_minor))
    slice_minor = Cents(
        load_default=P.min_slice_minor, validate=_cents(P.min_slice_minor, P.max_amount_minor)
    )
    max_per_borrower_minor = Cents(
        load_default=None, allow_none=True, validate=_cents(P.min_slice_minor, P.max_order_minor)
    )
    min_rate_bps = fields.Dict(
        keys=fields.String(validate=validate.OneOf(GRADES)),
        values=Bps(validate=_cents(0, P.rate_cap_bps)),
        required=True,
        validate=validate.Length(min=1),
        metadata={"description": "Accepted grades and the lowest rate for each, e.g. {'C': 900}"},
    )
    min_term_months = fields.Integer(
        strict=True, load_default=min(TERMS), validate=_cents(min(TERMS), max(TERMS))
    )
    max_term_months = fields.Integer(
        strict=True, load_default=max(TERMS), validate=_cents(min(TERMS), max(TERMS))
    )
    reinvest = fields.Boolean(load_default=False)
    idempotency_key = Key()


class ReinvestIn(Schema):
    reinvest = fields.Boolean(required=True)


class CommitIn(Schema):
    amount_minor = Cents(required=True, validate=_cents(1, P.max_amount_minor))
    rate_bps = Bps(required=True, validate=_cents(0, P.rate_cap_bps))
    idempotency_key = Key()


class PayIn(Schema):
    amount_minor = Cents(load_default=None, allow_none=True, validate=_cents(1, MAX_MINOR))
    idempotency_key = Key()


class EarlyIn(Schema):
    principal_minor = Cents(
        load_default=None, allow_none=True, validate=_cents(1, P.max_amount_minor)
    )
    idempotency_key = Key()


class QuoteQuery(Schema):
    principal_minor = fields.Integer(
        load_default=None, allow_none=True, validate=_cents(1, P.max_amount_minor)
    )


class MarketQuery(Schema):
    """Filters of the marketplace (query string, so integers arrive as text)."""

    grade = fields.List(fields.String(validate=validate.OneOf(GRADES)), load_default=list)
    term_months = fields.Integer(load_default=None, validate=validate.OneOf(TERMS))
    purpose_category = fields.String(load_default=None, validate=validate.OneOf(P.purposes))
    min_rate_bps = fields.Integer(load_default=None, validate=_cents(0, P.rate_cap_bps))
    min_remaining_minor = fields.Integer(load_default=None, validate=_cents(0, P.max_amount_minor))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=50, validate=validate.Range(min=1, max=100))


# --- page forms (what people type) ---------------------------------------------------------


class EuroText(AmountText):
    """An amount in euros, with the wording of the lending forms."""

    default_error_messages = {"invalid": "Enter an amount in euros, such as 250 or 1,250.50."}


_PERCENT = re.compile(r"^(\d{1,3})(?:[.,](\d{1,2}))?$")


class PercentText(fields.Field):
    """'7.25' (percent a year) -> 725 basis points; exact."""

    default_error_messages = {"invalid": "Enter a rate in percent, such as 7 or 7.25."}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        match = _PERCENT.match(value.strip()) if isinstance(value, str) else None
        if not match:
            raise self.make_error("invalid")
        return int(match.group(1)) * 100 + int((match.group(2) or "0").ljust(2, "0"))


def _blank_is_none(data: dict, *names: str) -> dict:
    return {k: v for k, v in data.items() if not (k in names and str(v).strip() == "")}


class RequestForm(Schema):
    amount_minor = EuroText(
        data_key="amount",
        required=True,
        validate=_euro_range(P.min_amount_minor, P.max_amount_minor),
        error_messages={"required": "Enter the amount."},
    )
    term_months = fields.Integer(required=True, validate=validate.OneOf(TERMS))
    max_rate_bps = PercentText(
        data_key="max_rate", required=True, validate=_rate_range(P.min_rate_bps, P.rate_cap_bps)
    )
    purpose_category = fields.String(required=True, validate=validate.OneOf(P.purposes))
    purpose_text = fields.String(required=True, validate=validate.Length(min=10, max=500))
    method = fields.String(load_default="annuity", validate=validate.OneOf(METHODS))
    idempotency_key = Key()


class MarketFilterForm(MarketQuery):
    """The marketplace's filters on the page, in the units people use: percent and euros."""

    min_rate_bps = PercentText(
        data_key="min_rate", load_default=None, validate=_rate_range(0, P.rate_cap_bps)
    )
    min_remaining_minor = EuroText(
        data_key="min_remaining",
        load_default=None,
        validate=_euro_range(0, P.max_amount_minor),
    )


class OrderForm(Schema):
    amount_minor = EuroText(
        data_key="amount", required=True, validate=_euro_range(P.min_slice_minor, P.max_order_minor)
    )
    slice_minor = EuroText(
        data_key="slice",
        load_default=P.min_slice_minor,
        validate=_euro_range(P.min_slice_minor, P.max_amount_minor),
    )
    max_per_borrower_minor = EuroText(
        data_key="max_per_borrower",
        load_default=None,
        validate=_euro_range(P.min_slice_minor, P.max_order_minor),
    )
    rate_a = PercentText(load_default=None, validate=_rate_range(0, P.rate_cap_bps))
    rate_b = PercentText(load_default=None, validate=_rate_range(0, P.rate_cap_bps))
    rate_c = PercentText(load_default=None, validate=_rate_range(0, P.rate_cap_bps))
    rate_d = PercentText(load_default=None, validate=_rate_range(0, P.rate_cap_bps))
    rate_e = PercentText(load_default=None, validate=_rate_range(0, P.rate_cap_bps))
    min_term_months = fields.Integer(
        load_default=min(TERMS),
        validate=validate.Range(
            min=min(TERMS),
            max=max(TERMS),
            error=f"Terms run from {min(TERMS)} to {max(TERMS)} months.",
        ),
    )
    max_term_months = fields.Integer(
        load_default=max(TERMS),
        validate=validate.Range(
            min=min(TERMS),
            max=max(TERMS),
            error=f"Terms run from {min(TERMS)} to {max(TERMS)} months.",
        ),
    )
    reinvest = fields.Boolean(load_default=False)
    idempotency_key = Key()

    def load(self, data, **kwargs):
        blanks = ("max_per_borrower", "slice", *(f"rate_{g.lower()}" for g in GRADES))
        return super().load(_blank_is_none(dict(data), *blanks), **kwargs)

    @validates_schema
    def _some_grade(self, data, **_kw) -> None:
        if all(data.get(f"rate_{g.lower()}") is None for g in GRADES):
            raise ValidationError("Accept at least one grade: give its lowest rate.", "rate_d")

    @post_load
    def _rates(self, data, **_kw) -> dict:
        data["min_rate_bps"] = {
            g: data.pop(f"rate_{g.lower()}")
            for g in GRADES
            if data.get(f"rate_{g.lower()}") is not None
        }
        for g in GRADES:
            data.pop(f"rate_{g.lower()}", None)
        return data


class CommitForm(Schema):
    amount_minor = EuroText(
        data_key="amount", required=True, validate=_euro_range(1, P.max_amount_minor)
    )
    rate_bps = PercentText(data_key="rate", required=True, validate=_rate_range(0, P.rate_cap_bps))
    idempotency_key = Key()


class PayForm(Schema):
    amount_minor = EuroText(
        data_key="amount", load_default=None, validate=_euro_range(1, MAX_MINOR)
    )
    idempotency_key = Key()

    def load(self, data, **kwargs):
        return super().load(_blank_is_none(dict(data), "amount"), **kwargs)


class EarlyForm(Schema):
    principal_minor = EuroText(
        data_key="principal", load_default=None, validate=_euro_range(1, P.max_amount_minor)
    )
    idempotency_key = Key()

    def load(self, data, **kwargs):
        return super().load(_blank_is_none(dict(data), "principal"), **kwargs)
