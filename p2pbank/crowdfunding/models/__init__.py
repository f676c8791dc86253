"""Crowdfunding entities and their lifecycles.

Campaign: draft -> live -> succeeded | failed, with `collecting` between live and
succeeded while saved cards are charged (Catarse's waiting_funds), and `cancelled` by the
initiator before anything is collected. Goal, deadline, model and type are locked once
live. Pledge: pending -> collected | errored | released | revoked; errored -> collected |
dropped; collected -> refunded.

One module per aggregate (campaigns, pledges, activity, investors), all re-exported
here: importing this package registers every table (p2pbank.models.load_all).
"""

from __future__ import annotations

from p2pbank.crowdfunding.models.activity import (
    CampaignEvent,
    CampaignUpdate,
    Comment,
    EventKind,
)
from p2pbank.crowdfunding.models.campaigns import (
    CAMPAIGN_TRANSITIONS,
    PUBLIC_STATUSES,
    Campaign,
    CampaignStatus,
    Payout,
    RewardTier,
    StretchGoal,
)
from p2pbank.crowdfunding.models.investors import (
    InvestorProfile,
    KnowledgeTestAttempt,
)
from p2pbank.crowdfunding.models.pledges import (
    COUNTING,
    OPEN,
    PLEDGE_TRANSITIONS,
    Pledge,
    PledgeChange,
    PledgeStatus,
)

__all__ = [
    "CampaignStatus",
    "CAMPAIGN_TRANSITIONS",
    "PUBLIC_STATUSES",
    "Campaign",
    "RewardTier",
    "StretchGoal",
    "Payout",
    "PledgeStatus",
    "PLEDGE_TRANSITIONS",
    "COUNTING",
    "OPEN",
    "Pledge",
    "PledgeChange",
    "CampaignUpdate",
    "Comment",
    "EventKind",
    "CampaignEvent",
    "InvestorProfile",
    "KnowledgeTestAttempt",
]
