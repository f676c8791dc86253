"""A campaign's field and launch checks: which fields may change once it is live, the
rules for each field (every problem reported at once), and the crowdlending limits at
launch (loan shape, the yearly cap per project owner, read from the database).
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import content, rules
from p2pbank.crowdfunding.kernel import (
    check_int_range,
    check_text,
)
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    Pledge,
    PledgeStatus,
)
from p2pbank.errors import ValidationFailed
from p2pbank.money import Money

# Fields fixed at launch: backers pledged against them.
LOCKED_WHEN_LIVE = frozenset(
    {
        "goal_minor",
        "currency",
        "duration_days",
        "funding_model",
        "kind",
        "loan_rate_bps",
        "loan_term_months",
    }
)
EDITABLE_FIELDS = LOCKED_WHEN_LIVE | {
    "title",
    "summary",
    "story_md",
    "category",
    "owner_legal_name",
    "owner_registration",
    "risks_md",
}


def check_fields(values: dict) -> None:
    """The campaign rules for whatever fields are given; raises with every problem."""
    errors: dict[str, list[str]] = {}
    check_text(values, "title", 3, 120, errors)
    check_text(values, "summary", 10, 300, errors)
    check_text(values, "story_md", 0, content.STORY_MAX_CHARS, errors)
    check_text(values, "owner_legal_name", 0, 200, errors)
    check_text(values, "owner_registration", 0, 80, errors)
    check_text(values, "risks_md", 0, content.STORY_MAX_CHARS, errors)
    check_int_range(
        values,
        "goal_minor",
        rules.GOAL_MIN_MINOR,
        rules.GOAL_MAX_MINOR,
        "The goal must be between 100 and 5,000,000.",
        errors,
    )
    check_int_range(
        values,
        "duration_days",
        rules.DURATION_MIN_DAYS,
        rules.DURATION_MAX_DAYS,
        "A campaign runs 1 to 60 days.",
        errors,
    )
    check_int_range(
        values,
        "loan_rate_bps",
        rules.LOAN_RATE_MIN_BPS,
        rules.LOAN_RATE_MAX_BPS,
        "The rate must be between 0.01 % and 30 % a year.",
        errors,
    )
    check_int_range(
        values,
        "loan_term_months",
        rules.LOAN_TERM_MIN_MONTHS,
        rules.LOAN_TERM_MAX_MONTHS,
        "The term must be 1 to 120 months.",
        errors,
    )
    if "category" in values and values["category"] not in rules.CATEGORIES:
        errors["category"] = ["Choose one of the categories."]
    if "currency" in values and values["currency"] not in rules.CURRENCIES:
        errors["currency"] = ["Choose EUR, GBP or USD."]
    if "funding_model" in values and values["funding_model"] not in set(rules.FundingModel):
        errors["funding_model"] = ["Choose all-or-nothing or keep-it-all."]
    if "kind" in values and values["kind"] not in set(rules.CampaignKind):
        errors["kind"] = ["Choose a reward or a loan campaign."]
    if errors:
        raise ValidationFailed("Some fields need attention.", field_errors=errors)


def check_loan_shape(campaign: Campaign) -> None:
    """A loan campaign borrows in euro, all-or-nothing, at a fixed rate and term."""
    if not campaign.is_loan:
        return
    errors: dict[str, list[str]] = {}
    if campaign.funding_model != rules.FundingModel.ALL_OR_NOTHING:
        errors["funding_model"] = ["A loan campaign is all-or-nothing."]
    if campaign.currency != rules.LOAN_CURRENCY:
        errors["currency"] = ["A loan campaign borrows in euro."]
    if campaign.loan_rate_bps is None:
        errors["loan_rate_bps"] = ["Give the yearly interest rate."]
    if campaign.loan_term_months is None:
        errors["loan_term_months"] = ["Give the term in months."]
    if errors:
        raise ValidationFailed("The loan terms are incomplete.", field_errors=errors)


def raised_by_owner(session: Session, initiator_id: int, since, *, exclude_id: int = 0) -> int:
    """What a project owner raised or is raising through loan campaigns since `since`:
    the goal of live ones, what was collected by finished ones (Art. 1(2)(c))."""
    live = session.scalar(
        select(func.coalesce(func.sum(Campaign.goal_minor), 0)).where(
            Campaign.initiator_id == initiator_id,
            Campaign.kind == rules.CampaignKind.LOAN,
            Campaign.status.in_([CampaignStatus.LIVE, CampaignStatus.COLLECTING]),
            Campaign.launched_at >= since,
            Campaign.id != exclude_id,
        )
    )
    done = session.scalar(
        select(func.coalesce(func.sum(Pledge.amount_minor), 0))
        .join(Campaign, Campaign.id == Pledge.campaign_id)
        .where(
            Campaign.initiator_id == initiator_id,
            Campaign.kind == rules.CampaignKind.LOAN,
            Campaign.status == CampaignStatus.SUCCEEDED,
            Campaign.launched_at >= since,
            Pledge.status == PledgeStatus.COLLECTED,
        )
    )
    return int(live or 0) + int(done or 0)


def check_loan_launch(session: Session, campaign: Campaign) -> None:
    check_loan_shape(campaign)
    errors: dict[str, list[str]] = {}
    if not campaign.owner_legal_name.strip():
        errors["owner_legal_name"] = ["Name the business that borrows."]
    if not campaign.owner_registration.strip():
        errors["owner_registration"] = ["Give the business registration number."]
    if not campaign.risks_md.strip():
        errors["risks_md"] = ["Describe the main risks for the information sheet."]
    if errors:
        raise ValidationFailed("The information sheet is incomplete.", field_errors=errors)
    since = rules.owner_cap_window_start(now())
    room = rules.owner_cap_room(
        raised_by_owner(session, campaign.initiator_id, since, exclude_id=campaign.id)
    )
    if campaign.goal_minor > room:
        raise ValidationFailed.on(
            "goal_minor",
            "A project owner may raise at most 5,000,000 euro in 12 months; "
            f"{Money(room, 'EUR')} is left.",
        )
