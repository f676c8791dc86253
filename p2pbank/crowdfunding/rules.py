"""Crowdfunding rules: limits, deadlines, outcomes, progress, the payout split and the
EU crowdfunding regulation's investor safeguards. Pure: standard library and money only.

Sources for the numbers:
* Kickstarter: 1-60 day campaigns; all-or-nothing; in the last 24 hours a pledge can only
  be raised; a backer whose card fails gets 7 days to fix it.
* Regulation (EU) 2020/1503 on European crowdfunding service providers: offers up to
  EUR 5,000,000 per project owner over 12 months (Art. 1(2)(c)); an entry knowledge test
  and a simulation of the ability to bear loss, 10% of net worth, for non-sophisticated
  investors, reviewed every two years (Art. 21(1), 21(4), 21(5)); a warning and explicit
  acknowledgment when one investment exceeds the higher of EUR 1,000 or 5% of net worth
  (Art. 21(7)); a four calendar day pre-contractual reflection period in which an offer
  can be revoked without giving a reason and without penalty (Art. 22(2)).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum

from p2pbank.money import percent_of
from p2pbank.months import add_months

GOAL_MIN_MINOR = 10_000  # 100.00
GOAL_MAX_MINOR = 500_000_000  # 5,000,000.00
DURATION_MIN_DAYS = 1
DURATION_MAX_DAYS = 60
MIN_PLEDGE_MINOR = 100  # 1.00
MAX_PLEDGE_MINOR = GOAL_MAX_MINOR
DEFAULT_PLATFORM_FEE_BPS = 500  # 5 %
CURRENCIES = ("EUR", "GBP", "USD")
LOAN_CURRENCY = "EUR"  # the regulation's thresholds are in euro

LAST_DAY = timedelta(hours=24)
CARD_FIX_WINDOW = timedelta(days=7)
REFLECTION_PERIOD = timedelta(days=4)
ASSESSMENT_VALID_YEARS = 2
LOSS_CAPACITY_BPS = 1_000  # 10 % of net worth
LARGE_INVESTMENT_FLOOR_MINOR = 100_000  # 1,000.00
LARGE_INVESTMENT_BPS = 500  # 5 % of net worth
OWNER_CAP_MINOR = 500_000_000  # 5,000,000.00 per project owner
OWNER_CAP_WINDOW_MONTHS = 12

LOAN_RATE_MIN_BPS = 1
LOAN_RATE_MAX_BPS = 3_000
LOAN_TERM_MIN_MONTHS = 1
LOAN_TERM_MAX_MONTHS = 120

CATEGORIES = (
    "art",
    "business",
    "community",
    "design",
    "education",
    "environment",
    "film",
    "food",
    "games",
    "health",
    "music",
    "publishing",
    "technology",
)


class FundingModel(StrEnum):
    ALL_OR_NOTHING = "all_or_nothing"
    KEEP_IT_ALL = "keep_it_all"


class CampaignKind(StrEnum):
    REWARD = "reward"  # backers get rewards
    LOAN = "loan"  # backers lend to the project owner (crowdlending)


class PayMethod(StrEnum):
    WALLET = "wallet"
    CARD = "card"


# --- deadlines ---------------------------------------------------------------------------------


def deadline_for(launched_at: datetime, duration_days: int) -> datetime:
    """The campaign ends exactly `duration_days` after launch."""
    if not DURATION_MIN_DAYS <= duration_days <= DURATION_MAX_DAYS:
        raise ValueError(f"duration must be {DURATION_MIN_DAYS}-{DURATION_MAX_DAYS} days")
    return launched_at + timedelta(days=duration_days)


def is_open(now: datetime, deadline: datetime) -> bool:
    """Pledges are taken until, and not at, the deadline."""
    return now < deadline


def in_final_day(now: datetime, deadline: datetime) -> bool:
    return deadline - LAST_DAY <= now < deadline


def change_refusal(
    now: datetime, deadline: datetime, old_minor: int, new_minor: int | None
) -> str | None:
    """Why a backer may not change a pledge to `new_minor` (None = cancel it), or None."""
    if not is_open(now, deadline):
        return "The campaign has ended; pledges can no longer change."
    if in_final_day(now, deadline):
        if new_minor is None:
            return "In the last 24 hours a pledge can only be raised, not cancelled."
        if new_minor < old_minor:
            return "In the last 24 hours a pledge can only be raised, not lowered."
    return None


def days_left(now: datetime, deadline: datetime) -> int:
    """Whole days left, rounded up (a campaign ending in 3 hours has 1 day left)."""
    remaining = deadline - now
    if remaining <= timedelta(0):
        return 0
    return -(-remaining // timedelta(days=1))


def delivery_overdue(delivery_month: date, now: datetime) -> bool:
    """A reward promised for a month is late once that month is over."""
    next_month = add_months(
        datetime(delivery_month.year, delivery_month.month, 1, tzinfo=now.tzinfo), 1
    )
    return now >= next_month


# --- outcome and progress ---------------------------------------------------------------------


def is_funded(model: FundingModel | str, pledged_minor: int, goal_minor: int) -> bool:
    """All-or-nothing needs the goal; keep-it-all collects whatever was pledged."""
    if FundingModel(model) is FundingModel.ALL_OR_NOTHING:
        return pledged_minor >= goal_minor
    return pledged_minor > 0


def percent_funded(pledged_minor: int, goal_minor: int) -> int:
    """Whole percent, rounded down, so 99.9 % is never shown as 100 %."""
    if goal_minor <= 0:
        raise ValueError("goal must be positive")
    return pledged_minor * 100 // goal_minor


@dataclass(frozen=True, slots=True)
class Progress:
    """The progress bar, before any fees. `firm` is money already held in a wallet or
    collected; `pending` is saved cards not charged yet. `revocable` is the part of the
    total (loan pledges) that may still be revoked in the reflection period."""

    goal_minor: int
    firm_minor: int
    pending_minor: int
    revocable_minor: int
    backers: int
    days_left: int

    @property
    def pledged_minor(self) -> int:
        return self.firm_minor + self.pending_minor

    @property
    def percent(self) -> int:
        return percent_funded(self.pledged_minor, self.goal_minor)

    @property
    def firm_width(self) -> int:
        """Width of the firm part of a 0-100 bar."""
        return min(100, percent_funded(self.firm_minor, self.goal_minor))

    @property
    def pending_width(self) -> int:
        return min(100 - self.firm_width, percent_funded(self.pending_minor, self.goal_minor))

    @property
    def reached(self) -> bool:
        return self.pledged_minor >= self.goal_minor


def stretch_goals_reached(pledged_minor: int, amounts: Iterable[int]) -> list[tuple[int, bool]]:
    return [(amount, pledged_minor >= amount) for amount in amounts]


# --- payout ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PayoutSplit:
    """What the escrow pays: the platform fee, the recorded processing fees, the rest to the
    initiator. `absorbed_minor` is processing cost the platform carries because the fees
    would otherwise exceed what is left (only possible after refunds)."""

    gross_minor: int
    platform_fee_minor: int
    processing_fee_minor: int
    net_minor: int
    absorbed_minor: int


def payout_split(gross_minor: int, platform_fee_bps: int, processing_minor: int) -> PayoutSplit:
    """Split the escrow; the three parts always add up to `gross_minor` and none is
    negative. The platform fee is `platform_fee_bps` of the gross, rounded half up."""
    if gross_minor < 0 or processing_minor < 0:
        raise ValueError("amounts must not be negative")
    if not 0 <= platform_fee_bps <= 10_000:
        raise ValueError("the fee must be between 0 and 100 %")
    platform = percent_of(gross_minor, platform_fee_bps)
    charged = min(processing_minor, gross_minor - platform)
    return PayoutSplit(
        gross_minor=gross_minor,
        platform_fee_minor=platform,
        processing_fee_minor=charged,
        net_minor=gross_minor - platform - charged,
        absorbed_minor=processing_minor - charged,
    )


# --- charts ------------------------------------------------------------------------------------


def daily_totals(
    changes: Iterable[tuple[date, int]], start: date, end: date
) -> list[tuple[date, int]]:
    """Cumulative pledged amount at the end of each day from `start` to `end` inclusive,
    from (day, signed change) pairs; changes before `start` count on the first day."""
    if end < start:
        return []
    per_day: dict[date, int] = {}
    opening = 0
    for day, delta in changes:
        if day < start:
            opening += delta
        else:
            per_day[day] = per_day.get(day, 0) + delta
    out: list[tuple[date, int]] = []
    running = opening
    day = start
    while day <= end:
        running += per_day.get(day, 0)
        out.append((day, running))
        day += timedelta(days=1)
    return out


def chart_points(values: Sequence[int], width: int, height: int) -> str:
    """SVG polyline points for `values` scaled into width x height (y grows downwards)."""
    if not values:
        return ""
    top = max(max(values), 1)
    step = width / max(len(values) - 1, 1)
    points = []
    for i, value in enumerate(values):
        x = round(i * step, 1)
        y = round(height - (max(value, 0) * height / top), 1)
        points.append(f"{x},{y}")
    return " ".join(points)


# --- EU 2020/1503 investor safeguards ----------------------------------------------------------


def net_worth(
    yearly_net_income_minor: int, liquid_assets_minor: int, yearly_commitments_minor: int
) -> int:
    """Art. 21(5): net worth = yearly income + total liquid assets - yearly commitments."""
    return yearly_net_income_minor + liquid_assets_minor - yearly_commitments_minor


def loss_capacity(net_worth_minor: int) -> int:
    """The ability to bear loss: 10 % of net worth (nothing when net worth is negative)."""
    return percent_of(max(net_worth_minor, 0), LOSS_CAPACITY_BPS)


def large_investment_threshold(net_worth_minor: int) -> int:
    """Art. 21(7): the higher of EUR 1,000 or 5 % of net worth."""
    return max(
        LARGE_INVESTMENT_FLOOR_MINOR, percent_of(max(net_worth_minor, 0), LARGE_INVESTMENT_BPS)
    )


def needs_large_investment_ack(amount_minor: int, net_worth_minor: int) -> bool:
    return amount_minor > large_investment_threshold(net_worth_minor)


def assessment_expires(taken_at: datetime) -> datetime:
    return add_months(taken_at, 12 * ASSESSMENT_VALID_YEARS)


def assessment_valid(taken_at: datetime | None, now: datetime) -> bool:
    return taken_at is not None and now < assessment_expires(taken_at)


def revocable_until(pledged_at: datetime) -> datetime:
    return pledged_at + REFLECTION_PERIOD


def can_revoke(pledged_at: datetime, now: datetime) -> bool:
    return now < revocable_until(pledged_at)


def owner_cap_window_start(now: datetime) -> datetime:
    return add_months(now, -OWNER_CAP_WINDOW_MONTHS)


def owner_cap_room(raised_in_window_minor: int) -> int:
    """How much more a project owner may still raise in the trailing 12 months."""
    return max(0, OWNER_CAP_MINOR - raised_in_window_minor)


@dataclass(frozen=True, slots=True)
class Question:
    key: str
    text: str
    options: tuple[tuple[str, str], ...]
    answer: str


KNOWLEDGE_TEST: tuple[Question, ...] = (
    Question(
        "loss",
        "The business you lend to cannot repay. What can happen to your money?",
        (
            ("a", "I can lose part or all of it."),
            ("b", "The platform pays me back."),
            ("c", "A deposit guarantee scheme pays me back."),
        ),
        "a",
    ),
    Question(
        "guarantee",
        "Is money you lend through a crowdfunding platform covered by a deposit guarantee "
        "scheme or an investor compensation scheme?",
        (("a", "Yes, up to 100,000 euro."), ("b", "No, it is not covered.")),
        "b",
    ),
    Question(
        "liquidity",
        "Can you get your money back whenever you want before the loan ends?",
        (
            ("a", "Yes, at any time."),
            ("b", "No; I may have to wait until the end of the term."),
        ),
        "b",
    ),
    Question(
        "diversify",
        "Why would you spread your money over several projects?",
        (
            ("a", "So one project that fails costs me only part of my money."),
            ("b", "It raises the interest rate."),
            ("c", "It makes no difference."),
        ),
        "a",
    ),
    Question(
        "share",
        "How much of your net worth is it advised, at most, to put into crowdfunding?",
        (("a", "10 percent"), ("b", "50 percent"), ("c", "All of it, if the rate is high.")),
        "a",
    ),
)
KNOWLEDGE_PASS_MARK = 4  # of 5


def score_knowledge_test(answers: Mapping[str, str]) -> tuple[int, bool]:
    """(correct answers, passed). Unknown question keys are ignored."""
    correct = sum(1 for q in KNOWLEDGE_TEST if answers.get(q.key) == q.answer)
    return correct, correct >= KNOWLEDGE_PASS_MARK
