"""Input and output shapes for ratings, profiles, the ranking and the score breakdown
(marshmallow, no framework).

The API takes stars as strict integers; the page forms take what a browser sends (text,
empty for "not given") and load into the very same keys, so pages and API call the
services with the same data. Shares go out as integer basis points (`*_bps`), as the
trust log publishes them.
"""

from __future__ import annotations

from marshmallow import Schema, fields, post_load, pre_load, validate

from p2pbank.paging import PagedOut
from p2pbank.trust.models import COMMENT_MAX, NOTE_MAX, VALUES, Detail, HideReason

VALUE_CHOICES = list(VALUES)
CHOOSE_VALUE = "Choose positive, neutral or negative."


def _stars(strict: bool) -> fields.Integer:
    return fields.Integer(
        strict=strict,
        allow_none=True,
        load_default=None,
        validate=validate.Range(min=1, max=5, error="Give 1 to 5 stars."),
    )


def _pack_details(data: dict) -> dict:
    data["details"] = {str(d): data.pop(str(d)) for d in Detail if data.get(str(d)) is not None}
    for name in Detail:
        data.pop(str(name), None)
    return data


def _drop_empty(data, **_kw):
    if hasattr(data, "items"):
        return {k: v for k, v in data.items() if not (isinstance(v, str) and v == "")}
    return data


# --- inputs ----------------------------------------------------------------------------------


class RateIn(Schema):
    value = fields.String(
        required=True,
        validate=validate.OneOf(VALUE_CHOICES, error=CHOOSE_VALUE),
        error_messages={"required": CHOOSE_VALUE},
    )
    comment = fields.String(
        load_default="",
        validate=validate.Length(max=COMMENT_MAX),
        metadata={"description": "Plain text."},
    )
    communication = _stars(True)
    kept_schedule = _stars(True)
    as_described = _stars(True)
    delivered_on_time = _stars(True)

    @post_load
    def _details(self, data, **_kw):
        return _pack_details(data)


class RateForm(RateIn):
    """The page form: stars arrive as text, and an unanswered detail as an empty string."""

    communication = _stars(False)
    kept_schedule = _stars(False)
    as_described = _stars(False)
    delivered_on_time = _stars(False)

    @pre_load
    def _empty(self, data, **kw):
        cleaned = _drop_empty(data)
        if "comment" in data and "comment" not in cleaned:
            cleaned["comment"] = ""
        return cleaned


class ReviseIn(RateIn):
    comment = fields.String(
        load_default=None,
        allow_none=True,
        validate=validate.Length(max=COMMENT_MAX),
        metadata={"description": "A new comment; leave out to keep the old one."},
    )


class ReviseForm(RateForm):
    comment = fields.String(load_default=None, validate=validate.Length(max=COMMENT_MAX))


class RevisionRequestIn(Schema):
    note = fields.String(load_default="", validate=validate.Length(max=NOTE_MAX))


class HideIn(Schema):
    reason = fields.String(
        required=True,
        validate=validate.OneOf([str(r) for r in HideReason], error="Choose a reason."),
    )
    note = fields.String(
        required=True,
        validate=validate.Length(min=3, max=NOTE_MAX, error="Write 3 to 500 characters."),
    )


class RankingArgs(Schema):
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=100_000))


class BreakdownArgs(Schema):
    subject = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^[0-9a-fA-F]{32}$", error="A pseudonym is 32 hexadecimal digits."
        ),
    )


# --- outputs ---------------------------------------------------------------------------------


def _bps(attribute: str) -> fields.Function:
    def get(obj):
        value = getattr(obj, attribute)
        return None if value is None else round(value * 10_000)

    field = fields.Function(get, allow_none=True)
    return field


class ShownRatingOut(Schema):
    id = fields.Integer()
    rater_id = fields.Integer()
    rater_name = fields.String()
    ratee_side = fields.String()
    value = fields.String()
    comment = fields.String()
    details = fields.Dict(keys=fields.String(), values=fields.Integer())
    submitted_at = fields.DateTime()
    revised = fields.Boolean()
    rater_wilson_bps = _bps("rater_wilson")


class GradeOut(Schema):
    grade = fields.String()
    points = fields.Float()
    reasons = fields.List(fields.String())
    version = fields.String()
    as_of = fields.DateTime(
        allow_none=True, metadata={"description": "When it was published; null: computed now."}
    )


class HistoryOut(Schema):
    as_of = fields.DateTime()
    grade = fields.String()
    feedback_score = fields.Integer()
    star_tier = fields.String()
    percent_positive_bps = fields.Integer(allow_none=True)


class ProfileOut(Schema):
    user_id = fields.Integer()
    display_name = fields.String()
    member_since = fields.DateTime()
    kyc_verified = fields.Boolean()
    feedback_score = fields.Integer()
    star_tier = fields.String()
    positives = fields.Integer()
    neutrals = fields.Integer()
    negatives = fields.Integer()
    completed = fields.Integer(metadata={"description": "Completed transactions, 12 months."})
    percent_positive_bps = _bps("percent_positive")
    effective_percent_positive_bps = _bps("effective_percent_positive")
    wilson_bps = _bps("wilson")
    details = fields.Dict(keys=fields.String(), values=fields.Float())
    grade = fields.Nested(GradeOut)
    recent = fields.List(fields.Nested(ShownRatingOut))
    history = fields.List(fields.Nested(HistoryOut))
    score_version = fields.String()


class RankedOut(Schema):
    rank = fields.Integer()
    user_id = fields.Integer()
    display_name = fields.String()
    positives = fields.Integer()
    neutrals = fields.Integer()
    negatives = fields.Integer()
    wilson_bps = _bps("wilson")


class RankingOut(PagedOut):
    members = fields.List(fields.Nested(RankedOut))


class PendingOut(Schema):
    transaction_id = fields.Integer()
    ref_type = fields.String()
    ref_id = fields.Integer()
    my_side = fields.String()
    other_id = fields.Integer()
    other_name = fields.String()
    other_side = fields.String()
    completed_at = fields.DateTime()
    deadline = fields.DateTime()
    other_has_rated = fields.Boolean()
    details = fields.List(fields.String())


class OwnRatingOut(Schema):
    id = fields.Integer()
    transaction_id = fields.Integer()
    ref_type = fields.String()
    ref_id = fields.Integer()
    rater_id = fields.Integer()
    rater_name = fields.String()
    ratee_id = fields.Integer()
    ratee_name = fields.String()
    ratee_side = fields.String()
    state = fields.String(metadata={"description": "sealed, shown or hidden"})
    value = fields.String(allow_none=True)
    comment = fields.String(allow_none=True)
    details = fields.Dict(keys=fields.String(), values=fields.Integer())
    submitted_at = fields.DateTime()
    reveal_due_at = fields.DateTime(allow_none=True)
    revised = fields.Boolean()
    hidden_reason = fields.String(allow_none=True)
    revision = fields.String(allow_none=True)
    revision_note = fields.String(allow_none=True)
    can_request_revision = fields.Boolean()
    can_revise = fields.Boolean()


class MyRatingsOut(Schema):
    given = fields.List(fields.Nested(OwnRatingOut))
    received = fields.List(fields.Nested(OwnRatingOut))
    pending = fields.List(fields.Nested(PendingOut))


class RevisionRequestOut(Schema):
    id = fields.Integer()
    rating_id = fields.Integer()
    status = fields.String()
    note = fields.String()
    requested_at = fields.DateTime()


class ModeratedOut(Schema):
    rating = fields.Nested(ShownRatingOut)
    hidden_at = fields.DateTime(allow_none=True)
    hidden_reason = fields.String(allow_none=True)
    hidden_note = fields.String()
    hidden_by_name = fields.String()


class RatingInputOut(Schema):
    rater = fields.String()
    value = fields.Integer()
    submitted = fields.DateTime()
    week = fields.String()
    counted = fields.Integer()
    in_window = fields.Boolean()


class RepaymentInputOut(Schema):
    kind = fields.String()
    days_late = fields.Integer()
    time = fields.DateTime()
    age_months = fields.Float()
    weight = fields.Float()
    success = fields.Float()
    failure = fields.Float()


class FactorOut(Schema):
    name = fields.String()
    points = fields.Float()
    maximum = fields.Integer()
    detail = fields.String()


class ComparisonOut(Schema):
    score = fields.String()
    published = fields.Raw(allow_none=True)
    recomputed = fields.Raw(allow_none=True)
    agrees = fields.Boolean()


class BreakdownOut(Schema):
    subject = fields.String()
    as_of = fields.DateTime()
    log_size = fields.Integer()
    published_at = fields.Integer(allow_none=True)
    score_version = fields.String()
    kyc_verified_at = fields.DateTime(allow_none=True)
    ratings = fields.List(fields.Nested(RatingInputOut))
    completed = fields.List(fields.DateTime())
    repayments = fields.List(fields.Nested(RepaymentInputOut))
    feedback_score = fields.Integer()
    star_tier = fields.String()
    trust_value = fields.Float()
    trust_percentile_bps = _bps("trust_percentile")
    network_members = fields.Integer()
    history_months = fields.Float()
    factors = fields.List(fields.Nested(FactorOut))
    grade = fields.Function(lambda b: b.grade.grade if b.grade else None)
    reasons = fields.Function(lambda b: list(b.grade.reasons) if b.grade else [])
    comparisons = fields.List(fields.Nested(ComparisonOut))
    all_agree = fields.Boolean()
    differences = fields.List(fields.String())


class BadgeOut(Schema):
    """The member badge embedded where a member is named (listings, loans, campaigns)."""

    user_id = fields.Integer()
    name = fields.String()
    score = fields.Integer(metadata={"description": "Published feedback score"})
    star = fields.String(allow_none=True, metadata={"description": "eBay's star colour"})
    positive_bps = fields.Integer(
        allow_none=True, metadata={"description": "Positive ratings over 12 months, in bps"}
    )
    identity_checked = fields.Boolean()
    member_since = fields.DateTime()
