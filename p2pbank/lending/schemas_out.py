"""What the lending API answers: one schema per read model of lending/read/ (the API's
response shapes, in minor units and basis points).
"""

from __future__ import annotations

from marshmallow import Schema, fields

from p2pbank.paging import PagedOut
from p2pbank.trust.schemas import BadgeOut


class ScheduleRowOut(Schema):
    number = fields.Integer()
    due_on = fields.Date()
    payment_minor = fields.Integer()
    interest_minor = fields.Integer()
    principal_minor = fields.Integer()
    balance_minor = fields.Integer()
    late_fee_minor = fields.Integer()
    paid_minor = fields.Integer()
    owed_minor = fields.Integer()
    state = fields.String()


class PreviewOut(Schema):
    principal_minor = fields.Integer()
    fee_minor = fields.Integer()
    paid_out_minor = fields.Integer()
    term_months = fields.Integer()
    rate_bps = fields.Integer()
    method = fields.String()
    grade = fields.String()
    grade_reasons = fields.List(fields.String())
    apr_bps = fields.Integer(metadata={"description": "APR (CCD Annex I) including the fee"})
    total_interest_minor = fields.Integer()
    total_cost_minor = fields.Integer(metadata={"description": "All interest plus the fee"})
    total_paid_minor = fields.Integer()
    instalment_minor = fields.Integer()
    rows = fields.List(fields.Nested(ScheduleRowOut))


class ListingOut(Schema):
    id = fields.Integer()
    borrower_name = fields.String()
    borrower = fields.Nested(BadgeOut, attribute="borrower_badge", allow_none=True)
    grade = fields.String()
    grade_reasons = fields.List(fields.String())
    grade_rule_version = fields.String()
    currency = fields.String()
    amount_minor = fields.Integer()
    funded_minor = fields.Integer()
    open_minor = fields.Integer()
    progress_percent = fields.Integer()
    term_months = fields.Integer()
    max_rate_bps = fields.Integer()
    method = fields.String()
    purpose_category = fields.String()
    purpose_text = fields.String()
    status = fields.String()
    listed_at = fields.DateTime()
    expires_at = fields.DateTime()
    accept_by = fields.DateTime(allow_none=True)
    is_own = fields.Boolean()


class MarketOut(PagedOut):
    listings = fields.List(fields.Nested(ListingOut))


class FillOut(Schema):
    amount_minor = fields.Integer()
    rate_bps = fields.Integer()
    mine = fields.Boolean()


class SkipOut(Schema):
    reason = fields.String()
    text = fields.String()
    mine = fields.Boolean()
    count = fields.Integer()


class MatchOut(Schema):
    id = fields.Integer()
    trigger = fields.String()
    created_at = fields.DateTime()
    rule = fields.String()
    filled_minor = fields.Integer()
    funded_after_minor = fields.Integer()
    weighted_rate_bps = fields.Integer(allow_none=True)
    fills = fields.List(fields.Nested(FillOut))
    skipped = fields.List(fields.Nested(SkipOut))


class CommitmentOut(Schema):
    id = fields.Integer()
    request_id = fields.Integer()
    order_id = fields.Integer(allow_none=True)
    amount_minor = fields.Integer()
    rate_bps = fields.Integer()
    status = fields.String()
    created_at = fields.DateTime()


class ListingDetailOut(Schema):
    listing = fields.Nested(ListingOut)
    matches = fields.List(fields.Nested(MatchOut))
    my_commitments = fields.List(fields.Nested(CommitmentOut))
    acceptance = fields.Nested(PreviewOut, allow_none=True)
    loan_id = fields.Integer(allow_none=True)
    min_acceptable_minor = fields.Integer()


class OrderOut(Schema):
    id = fields.Integer()
    status = fields.String()
    currency = fields.String()
    amount_minor = fields.Integer()
    remaining_minor = fields.Integer()
    committed_minor = fields.Integer()
    lent_minor = fields.Integer()
    slice_minor = fields.Integer()
    max_per_borrower_minor = fields.Integer()
    min_rate_bps = fields.Dict(keys=fields.String(), values=fields.Integer())
    min_term_months = fields.Integer()
    max_term_months = fields.Integer()
    reinvest = fields.Boolean()
    placed_at = fields.DateTime()
    cancelled_at = fields.DateTime(allow_none=True)


class NotMatchedOut(Schema):
    listing_id = fields.Integer()
    reason = fields.String()


class OrderDetailOut(Schema):
    order = fields.Nested(OrderOut)
    commitments = fields.List(fields.Nested(CommitmentOut))
    not_matched = fields.Method("_not_matched")

    def _not_matched(self, detail) -> list[dict]:
        return [{"listing_id": i, "reason": text} for i, text in detail.not_matched]


class LoanOut(Schema):
    borrower = fields.Nested(BadgeOut, attribute="borrower_badge", allow_none=True)
    id = fields.Integer()
    request_id = fields.Integer()
    status = fields.String()
    grade = fields.String()
    currency = fields.String()
    principal_minor = fields.Integer()
    fee_minor = fields.Integer()
    outstanding_minor = fields.Integer()
    written_off_minor = fields.Integer()
    recovered_minor = fields.Integer()
    debt_minor = fields.Integer()
    term_months = fields.Integer()
    method = fields.String()
    rate_bps = fields.Integer()
    apr_bps = fields.Integer()
    instalment_minor = fields.Integer()
    issued_at = fields.DateTime()
    days_past_due = fields.Integer()
    arrears_bucket = fields.String()
    due_now_minor = fields.Integer()
    next_due_on = fields.Date(allow_none=True)
    next_payment_minor = fields.Integer()
    lenders = fields.Integer()
    rows = fields.List(fields.Nested(ScheduleRowOut))


class RepaymentOut(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    kind = fields.String()
    amount_minor = fields.Integer()
    principal_minor = fields.Integer()
    interest_minor = fields.Integer()
    late_fee_minor = fields.Integer()
    recovery_minor = fields.Integer()
    servicing_fee_minor = fields.Integer()
    created_at = fields.DateTime()


class QuoteOut(Schema):
    principal_minor = fields.Integer()
    interest_minor = fields.Integer()
    total_minor = fields.Integer()
    remaining_minor = fields.Integer()
    new_term_months = fields.Integer()
    instalment_minor = fields.Integer()
    rows = fields.List(fields.Nested(ScheduleRowOut))


class PartOut(Schema):
    id = fields.Integer()
    loan_id = fields.Integer()
    grade = fields.String()
    term_months = fields.Integer()
    rate_bps = fields.Integer()
    principal_minor = fields.Integer()
    outstanding_minor = fields.Integer()
    received_principal_minor = fields.Integer()
    received_interest_minor = fields.Integer()
    received_late_fees_minor = fields.Integer()
    received_recoveries_minor = fields.Integer()
    servicing_fees_minor = fields.Integer()
    written_off_minor = fields.Integer()
    loan_status = fields.String()
    days_past_due = fields.Integer()
    arrears_bucket = fields.String()
    next_due_on = fields.Date(allow_none=True)
    next_amount_minor = fields.Integer()
    issued_at = fields.DateTime()


class ExpectedOut(Schema):
    due_on = fields.Date()
    amount_minor = fields.Integer()


class ReturnsOut(Schema):
    net_annualized_return = fields.Float(allow_none=True)
    xirr = fields.Float(allow_none=True)
    explanation = fields.List(fields.String())


class LenderDashboardOut(Schema):
    currency = fields.String()
    available_minor = fields.Integer()
    held_minor = fields.Integer()
    lent_out_minor = fields.Integer()
    committed_minor = fields.Integer()
    in_orders_minor = fields.Integer()
    income_minor = fields.Integer()
    written_off_minor = fields.Integer()
    orders = fields.List(fields.Nested(OrderOut))
    commitments = fields.List(fields.Nested(CommitmentOut))
    parts = fields.List(fields.Nested(PartOut))
    expected = fields.List(fields.Nested(ExpectedOut))
    returns = fields.Nested(ReturnsOut)


class BorrowerDashboardOut(Schema):
    currency = fields.String()
    available_minor = fields.Integer()
    limit_minor = fields.Integer()
    limit_reason = fields.String()
    grade = fields.String()
    grade_reasons = fields.List(fields.String())
    grade_rule_version = fields.String()
    can_request = fields.Boolean()
    requests = fields.List(fields.Nested(ListingOut))
    loans = fields.List(fields.Nested(LoanOut))
