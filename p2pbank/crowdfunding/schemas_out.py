"""What the crowdfunding API answers: one schema per read model of crowdfunding/read/ (the
API's response shapes, amounts in minor units).
"""

from __future__ import annotations

from marshmallow import Schema, fields

from p2pbank.crowdfunding.schemas import RISK_WARNING, MonthField
from p2pbank.paging import PagedOut
from p2pbank.trust.schemas import BadgeOut


class CampaignProgressOut(Schema):
    goal_minor = fields.Integer()
    pledged_minor = fields.Integer()
    firm_minor = fields.Integer()
    pending_minor = fields.Integer()
    revocable_minor = fields.Integer()
    percent = fields.Integer()
    backers = fields.Integer()
    days_left = fields.Integer()


class CampaignCardOut(Schema):
    id = fields.Integer()
    title = fields.String()
    summary = fields.String()
    category = fields.String()
    kind = fields.String()
    funding_model = fields.String()
    status = fields.String()
    currency = fields.String()
    goal_minor = fields.Integer()
    pledged_minor = fields.Integer()
    percent = fields.Integer()
    backers = fields.Integer()
    days_left = fields.Integer()
    deadline_at = fields.DateTime(allow_none=True)
    initiator_name = fields.String()
    initiator = fields.Nested(BadgeOut, attribute="initiator_badge", allow_none=True)
    rating = fields.Float(
        allow_none=True,
        metadata={"description": "Wilson lower bound of backers' reward confirmations."},
    )
    rewards_confirmed = fields.Integer()
    rewards_answered = fields.Integer()


class CampaignExploreOut(PagedOut):
    items = fields.List(fields.Nested(CampaignCardOut))


class RewardTierOut(Schema):
    id = fields.Integer()
    title = fields.String()
    description = fields.String()
    min_pledge_minor = fields.Integer()
    quantity_limit = fields.Integer(allow_none=True)
    remaining = fields.Integer(allow_none=True)
    sold_out = fields.Boolean()
    retired = fields.Boolean()
    backers = fields.Integer()
    delivery_month = MonthField(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)


class StretchGoalOut(Schema):
    id = fields.Integer()
    amount_minor = fields.Integer()
    description = fields.String()
    reached = fields.Boolean()


class CampaignUpdateOut(Schema):
    id = fields.Integer()
    title = fields.String()
    body_html = fields.String(allow_none=True)
    visibility = fields.String()
    created_at = fields.DateTime()


class CampaignCommentOut(Schema):
    id = fields.Integer()
    author_name = fields.String()
    body = fields.String()
    by_initiator = fields.Boolean()
    created_at = fields.DateTime()
    replies = fields.List(fields.Nested(lambda: CampaignCommentOut()))


class CampaignOut(Schema):
    id = fields.Integer()
    initiator_id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    summary = fields.String()
    story_html = fields.String()
    category = fields.String()
    goal_minor = fields.Integer()
    currency = fields.String()
    duration_days = fields.Integer()
    funding_model = fields.String()
    status = fields.String()
    platform_fee_bps = fields.Integer()
    loan_rate_bps = fields.Integer(allow_none=True)
    loan_term_months = fields.Integer(allow_none=True)
    owner_legal_name = fields.String()
    launched_at = fields.DateTime(allow_none=True)
    deadline_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    has_cover = fields.Function(lambda c: bool(c.cover_filename))


class CampaignDetailOut(Schema):
    campaign = fields.Nested(CampaignOut)
    initiator_name = fields.String()
    initiator = fields.Nested(BadgeOut, attribute="initiator_badge", allow_none=True)
    progress = fields.Nested(CampaignProgressOut)
    tiers = fields.List(fields.Nested(RewardTierOut))
    stretch_goals = fields.List(fields.Nested(StretchGoalOut))
    updates = fields.List(fields.Nested(CampaignUpdateOut))
    comments = fields.List(fields.Nested(CampaignCommentOut))
    taking_pledges = fields.Boolean()


class CampaignPledgeOut(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    tier_id = fields.Integer(allow_none=True)
    amount_minor = fields.Integer()
    currency = fields.String()
    method = fields.String()
    status = fields.String()
    processing_fee_minor = fields.Integer()
    error_message = fields.String()
    fix_until = fields.DateTime(allow_none=True)
    revocable_until = fields.DateTime(allow_none=True)
    setup_client_secret = fields.String(allow_none=True)
    delivery_status = fields.String(allow_none=True)
    created_at = fields.DateTime()


class RewardTierRowOut(Schema):
    id = fields.Integer()
    title = fields.String()
    min_pledge_minor = fields.Integer()
    quantity_limit = fields.Integer(allow_none=True)
    claimed = fields.Integer()
    delivery_month = MonthField(allow_none=True)
    shipped_at = fields.DateTime(allow_none=True)
    retired_at = fields.DateTime(allow_none=True)


class StretchGoalRowOut(Schema):
    id = fields.Integer()
    amount_minor = fields.Integer()
    description = fields.String()


class PayoutStatementOut(Schema):
    final = fields.Boolean()
    collected_minor = fields.Integer()
    refunded_minor = fields.Integer()
    gross_minor = fields.Integer()
    platform_fee_bps = fields.Integer()
    platform_fee_minor = fields.Integer()
    processing_fee_minor = fields.Integer()
    absorbed_minor = fields.Integer()
    net_minor = fields.Integer()
    paid_at = fields.DateTime(allow_none=True)


class RewardTierCountOut(Schema):
    id = fields.Integer()
    title = fields.String()
    quantity_limit = fields.Integer(allow_none=True)
    open = fields.Integer()
    collected = fields.Integer()
    let_go = fields.Integer()
    received = fields.Integer()
    problems = fields.Integer()
    shipped_at = fields.DateTime(allow_none=True)


class CampaignBackerOut(Schema):
    pledge_id = fields.Integer()
    backer_name = fields.String()
    amount_minor = fields.Integer()
    method = fields.String()
    status = fields.String()
    tier_title = fields.String(allow_none=True)
    processing_fee_minor = fields.Integer()
    created_at = fields.DateTime()
    delivery_status = fields.String(allow_none=True)


class CampaignDashboardOut(Schema):
    progress = fields.Nested(CampaignProgressOut)
    series = fields.Method("_series")
    tiers = fields.List(fields.Nested(RewardTierCountOut))
    backers = fields.List(fields.Nested(CampaignBackerOut))
    statement = fields.Nested(PayoutStatementOut)

    def _series(self, dashboard) -> list[dict]:
        return [{"day": day.isoformat(), "pledged_minor": value} for day, value in dashboard.series]


class InvestorProfileOut(Schema):
    sophisticated = fields.Boolean(attribute="check.sophisticated")
    knowledge_test_valid = fields.Boolean(attribute="check.test_valid")
    simulation_valid = fields.Boolean(attribute="check.simulation_valid")
    net_worth_minor = fields.Integer(attribute="check.net_worth_minor", allow_none=True)
    loss_capacity_minor = fields.Integer(attribute="check.loss_capacity_minor", allow_none=True)
    large_investment_threshold_minor = fields.Integer(
        attribute="check.threshold_minor", allow_none=True
    )
    knowledge_passed_at = fields.DateTime(allow_none=True)
    knowledge_expires_at = fields.DateTime(allow_none=True)
    simulated_at = fields.DateTime(allow_none=True)


class KnowledgeTestResultOut(Schema):
    score = fields.Integer()
    passed = fields.Boolean()
    taken_at = fields.DateTime()


class KnowledgeQuestionOut(Schema):
    key = fields.String()
    text = fields.String()
    options = fields.Method("_options")

    def _options(self, q) -> list[dict]:
        return [{"key": k, "text": t} for k, t in q.options]


class CampaignEventOut(Schema):
    id = fields.Integer()
    campaign_id = fields.Integer()
    kind = fields.String()
    subject_id = fields.Integer()
    actor_id = fields.Integer(allow_none=True)
    pledge_id = fields.Integer(allow_none=True)
    tier_id = fields.Integer(allow_none=True)
    amount_minor = fields.Integer(allow_none=True)
    detail = fields.String()
    created_at = fields.DateTime()


class InformationSheetOut(Schema):
    campaign = fields.Nested(CampaignOut)
    initiator_name = fields.String()
    risks_md = fields.String(attribute="campaign.risks_md")
    owner_registration = fields.String(attribute="campaign.owner_registration")
    progress = fields.Nested(CampaignProgressOut)
    platform_fee_bps = fields.Integer()
    raised_by_owner_minor = fields.Integer()
    risk_warning = fields.Method("_warning")

    def _warning(self, _sheet) -> str:
        return RISK_WARNING
