"""Input and output shapes for crowdfunding (marshmallow, no framework).

API inputs take money as integer minor units (`*_minor`, strict integers with ranges); page
forms take amounts as people type them ("25", "1,250.50") and turn them into minor units
exactly, never through a float."""

from __future__ import annotations

from datetime import date

from marshmallow import Schema, ValidationError, fields, post_load, validate, validates_schema

from p2pbank.amount_field import AmountText
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.content import STORY_MAX_CHARS, UPDATE_MAX_CHARS
from p2pbank.digits import is_ascii_digits

KEY = validate.Length(min=8, max=100)
MONEY_MAX = rules.GOAL_MAX_MINOR * 10
DECLARED_MAX = 10**13


def money_field(lo: int, hi: int, **kw) -> fields.Integer:
    return fields.Integer(strict=True, validate=validate.Range(min=lo, max=hi), **kw)


class OptionalInt(fields.Field):
    """A form field that is empty (None) or a whole number."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, bool):
            raise ValidationError("Enter a whole number.")
        try:
            return int(str(value).strip())
        except ValueError as exc:
            raise ValidationError("Enter a whole number.") from exc


class Percent(fields.Field):
    """'6.5' (percent a year) -> 650 basis points, exactly."""

    def _deserialize(self, value, attr, data, **kwargs):
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        text = str(value).strip().replace(",", ".")
        whole, _, frac = text.partition(".")
        if not is_ascii_digits(whole) or (frac and (not is_ascii_digits(frac) or len(frac) > 2)):
            raise ValidationError("Enter a rate such as 6.5.")
        return int(whole) * 100 + int((frac + "00")[:2])


class MonthField(fields.Field):
    """'2027-03' (an HTML month input) or '2027-03-01' -> the first day of that month."""

    def _deserialize(self, value, attr, data, **kwargs) -> date:
        if isinstance(value, date):
            return value.replace(day=1)
        if not isinstance(value, str):
            raise ValidationError("Give a month such as 2027-03.")
        text = value.strip()
        try:
            if len(text) == 7:
                return date.fromisoformat(text + "-01")
            return date.fromisoformat(text).replace(day=1)
        except ValueError as exc:
            raise ValidationError("Give a month such as 2027-03.") from exc

    def _serialize(self, value, attr, obj, **kwargs):
        return value.strftime("%Y-%m") if value else None


# --- campaigns ----------------------------------------------------------------------------------

TITLE = validate.Length(min=3, max=120)
SUMMARY = validate.Length(min=10, max=300)
CATEGORY = validate.OneOf(rules.CATEGORIES)
CURRENCY = validate.OneOf(rules.CURRENCIES)
MODEL = validate.OneOf([m.value for m in rules.FundingModel])
KIND = validate.OneOf([k.value for k in rules.CampaignKind])
DURATION = validate.Range(min=rules.DURATION_MIN_DAYS, max=rules.DURATION_MAX_DAYS)
RATE = validate.Range(min=rules.LOAN_RATE_MIN_BPS, max=rules.LOAN_RATE_MAX_BPS)
TERM = validate.Range(min=rules.LOAN_TERM_MIN_MONTHS, max=rules.LOAN_TERM_MAX_MONTHS)


class CampaignIn(Schema):
    title = fields.String(required=True, validate=TITLE)
    summary = fields.String(required=True, validate=SUMMARY)
    story_md = fields.String(load_default="", validate=validate.Length(max=STORY_MAX_CHARS))
    category = fields.String(required=True, validate=CATEGORY)
    goal_minor = money_field(rules.GOAL_MIN_MINOR, rules.GOAL_MAX_MINOR, required=True)
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    duration_days = fields.Integer(required=True, strict=True, validate=DURATION)
    funding_model = fields.String(load_default="all_or_nothing", validate=MODEL)
    kind = fields.String(load_default="reward", validate=KIND)
    loan_rate_bps = fields.Integer(strict=True, allow_none=True, load_default=None, validate=RATE)
    loan_term_months = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=TERM
    )
    owner_legal_name = fields.String(load_default="", validate=validate.Length(max=200))
    owner_registration = fields.String(load_default="", validate=validate.Length(max=80))
    risks_md = fields.String(load_default="", validate=validate.Length(max=STORY_MAX_CHARS))


class CampaignPatch(Schema):
    title = fields.String(validate=TITLE)
    summary = fields.String(validate=SUMMARY)
    story_md = fields.String(validate=validate.Length(max=STORY_MAX_CHARS))
    category = fields.String(validate=CATEGORY)
    goal_minor = money_field(rules.GOAL_MIN_MINOR, rules.GOAL_MAX_MINOR)
    currency = fields.String(validate=CURRENCY)
    duration_days = fields.Integer(strict=True, validate=DURATION)
    funding_model = fields.String(validate=MODEL)
    kind = fields.String(validate=KIND)
    loan_rate_bps = fields.Integer(strict=True, allow_none=True, validate=RATE)
    loan_term_months = fields.Integer(strict=True, allow_none=True, validate=TERM)
    owner_legal_name = fields.String(validate=validate.Length(max=200))
    owner_registration = fields.String(validate=validate.Length(max=80))
    risks_md = fields.String(validate=validate.Length(max=STORY_MAX_CHARS))


class CampaignForm(Schema):
    """The create/edit page: amounts and rates as typed."""

    title = fields.String(required=True, validate=TITLE)
    summary = fields.String(required=True, validate=SUMMARY)
    story_md = fields.String(load_default="", validate=validate.Length(max=STORY_MAX_CHARS))
    category = fields.String(required=True, validate=CATEGORY)
    goal = AmountText(required=True)
    currency = fields.String(load_default="EUR", validate=CURRENCY)
    duration_days = fields.Integer(required=True, validate=DURATION)
    funding_model = fields.String(load_default="all_or_nothing", validate=MODEL)
    kind = fields.String(load_default="reward", validate=KIND)
    loan_rate = Percent(load_default=None)
    loan_term_months = OptionalInt(load_default=None)
    owner_legal_name = fields.String(load_default="", validate=validate.Length(max=200))
    owner_registration = fields.String(load_default="", validate=validate.Length(max=80))
    risks_md = fields.String(load_default="", validate=validate.Length(max=STORY_MAX_CHARS))

    @post_load
    def _to_minor(self, data, **kwargs):
        data["goal_minor"] = data.pop("goal")
        data["loan_rate_bps"] = data.pop("loan_rate")
        if data.get("kind") != "loan":
            data["loan_rate_bps"] = data["loan_term_months"] = None
        return data


class RewardTierIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=80))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    min_pledge_minor = money_field(rules.MIN_PLEDGE_MINOR, rules.MAX_PLEDGE_MINOR, required=True)
    quantity_limit = fields.Integer(
        strict=True, allow_none=True, load_default=None, validate=validate.Range(min=1)
    )
    delivery_month = MonthField(required=True)


class RewardTierPatch(Schema):
    title = fields.String(validate=validate.Length(min=1, max=80))
    description = fields.String(validate=validate.Length(max=1000))
    min_pledge_minor = money_field(rules.MIN_PLEDGE_MINOR, rules.MAX_PLEDGE_MINOR)
    quantity_limit = fields.Integer(
        strict=True, allow_none=True, validate=validate.Range(min=1, max=1_000_000)
    )
    delivery_month = MonthField()


class RewardTierForm(Schema):
    title = fields.String(required=True, validate=validate.Length(min=1, max=80))
    description = fields.String(load_default="", validate=validate.Length(max=1000))
    min_pledge = AmountText(required=True)
    quantity_limit = OptionalInt(load_default=None)
    delivery_month = MonthField(required=True)

    @post_load
    def _to_minor(self, data, **kwargs):
        data["min_pledge_minor"] = data.pop("min_pledge")
        return data


class StretchGoalIn(Schema):
    amount_minor = money_field(1, MONEY_MAX, required=True)
    description = fields.String(required=True, validate=validate.Length(min=3, max=300))


class StretchGoalForm(Schema):
    amount = AmountText(required=True)
    description = fields.String(required=True, validate=validate.Length(min=3, max=300))

    @post_load
    def _to_minor(self, data, **kwargs):
        data["amount_minor"] = data.pop("amount")
        return data


class CampaignCancelIn(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=3, max=300))


class CampaignUpdateIn(Schema):
    title = fields.String(required=True, validate=validate.Length(min=3, max=150))
    body_md = fields.String(required=True, validate=validate.Length(min=1, max=UPDATE_MAX_CHARS))
    visibility = fields.String(
        load_default="public", validate=validate.OneOf(["public", "backers"])
    )


class CampaignCommentIn(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    parent_id = fields.Integer(strict=True, allow_none=True, load_default=None)


class CampaignCommentCreatedOut(Schema):
    id = fields.Integer()
    parent_id = fields.Integer(allow_none=True)
    by_initiator = fields.Boolean()
    created_at = fields.DateTime()


class CampaignCommentForm(Schema):
    body = fields.String(required=True, validate=validate.Length(min=1, max=2000))
    parent_id = OptionalInt(load_default=None)


# --- pledges -------------------------------------------------------------------------------------

METHOD = validate.OneOf([m.value for m in rules.PayMethod])


class CampaignPledgeIn(Schema):
    amount_minor = money_field(rules.MIN_PLEDGE_MINOR, rules.MAX_PLEDGE_MINOR, required=True)
    tier_id = fields.Integer(strict=True, allow_none=True, load_default=None)
    method = fields.String(load_default="wallet", validate=METHOD)
    idempotency_key = fields.String(required=True, validate=KEY)
    acknowledge_risk = fields.Boolean(load_default=False)


class CampaignPledgeForm(Schema):
    amount = AmountText(required=True)
    tier_id = OptionalInt(load_default=None)
    method = fields.String(load_default="wallet", validate=METHOD)
    idempotency_key = fields.String(required=True, validate=KEY)
    acknowledge_risk = fields.Boolean(load_default=False)

    @post_load
    def _to_minor(self, data, **kwargs):
        data["amount_minor"] = data.pop("amount")
        return data


class CampaignPledgeChangeIn(Schema):
    amount_minor = money_field(rules.MIN_PLEDGE_MINOR, rules.MAX_PLEDGE_MINOR, required=True)
    tier_id = fields.Integer(strict=True, allow_none=True, load_default=None)


class CampaignPledgeChangeForm(Schema):
    amount = AmountText(required=True)
    tier_id = OptionalInt(load_default=None)

    @post_load
    def _to_minor(self, data, **kwargs):
        data["amount_minor"] = data.pop("amount")
        return data


class DeliveryProblemIn(Schema):
    note = fields.String(required=True, validate=validate.Length(min=3, max=1000))


class CardNumberIn(Schema):
    __test__ = False  # not a pytest test class

    card_number = fields.String(required=True, validate=validate.Length(min=12, max=23))


# --- investors -----------------------------------------------------------------------------------


class KnowledgeTestAnswersIn(Schema):
    answers = fields.Dict(
        keys=fields.String(validate=validate.Length(max=32)),
        values=fields.String(validate=validate.Length(max=4)),
        required=True,
    )

    @validates_schema
    def _all_answered(self, data, **kwargs):
        missing = [q.key for q in rules.KNOWLEDGE_TEST if q.key not in data.get("answers", {})]
        if missing:
            raise ValidationError({key: ["Choose an answer."] for key in missing})


class LossSimulationIn(Schema):
    yearly_net_income_minor = money_field(0, DECLARED_MAX, required=True)
    liquid_assets_minor = money_field(0, DECLARED_MAX, required=True)
    yearly_commitments_minor = money_field(0, DECLARED_MAX, required=True)


class LossSimulationForm(Schema):
    yearly_net_income = AmountText(required=True)
    liquid_assets = AmountText(required=True)
    yearly_commitments = AmountText(required=True)

    @post_load
    def _to_minor(self, data, **kwargs):
        return {f"{name}_minor": value for name, value in data.items()}


class SophisticatedInvestorIn(Schema):
    sophisticated = fields.Boolean(required=True)


# --- queries -------------------------------------------------------------------------------------


class CampaignExploreQuery(Schema):
    category = fields.String(load_default=None, validate=validate.OneOf(rules.CATEGORIES))
    funding_model = fields.String(load_default=None, validate=MODEL)
    kind = fields.String(load_default=None, validate=KIND)
    status = fields.String(
        load_default="live", validate=validate.OneOf(["live", "succeeded", "ended", "all"])
    )
    sort = fields.String(
        load_default="ending_soon",
        validate=validate.OneOf(["ending_soon", "most_funded", "newest", "best_rated"]),
    )
    q = fields.String(load_default=None, validate=validate.Length(max=100))
    page = fields.Integer(load_default=1, validate=validate.Range(min=1, max=10_000))
    per_page = fields.Integer(load_default=12, validate=validate.Range(min=1, max=50))


class CampaignEventsQuery(Schema):
    since_id = fields.Integer(load_default=0, validate=validate.Range(min=0))
    limit = fields.Integer(load_default=500, validate=validate.Range(min=1, max=5000))


# Regulation (EU) 2020/1503, Annex I, Part A(b) and Art. 23(6)(b): the warning that must
# appear directly under the title of the key investment information sheet.
RISK_WARNING = (
    "This crowdfunding offer has been neither verified nor approved by competent authorities "
    "or the European Securities and Markets Authority (ESMA). The appropriateness of your "
    "experience and knowledge have not necessarily been assessed before you were granted "
    "access to this investment. By making this investment, you assume full risk of taking "
    "this investment, including the risk of partial or entire loss of the money invested."
)
