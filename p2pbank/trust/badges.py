"""The member badge shown beside every name: the published feedback score and its star
colour, % positive over 12 months, identity checked, member since. The figures are those
of the member's latest published score snapshot (the trust log's, which auditors can
replay), loaded for a whole page in two queries however many names it shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank.identity.models import KycStatus, User
from p2pbank.trust.queries import latest_snapshots


@dataclass(frozen=True)
class Badge:
    user_id: int
    name: str
    score: int
    star: str | None  # eBay's star colour, None below a score of 10
    positive_bps: int | None  # share of positive ratings over 12 months; None without any
    identity_checked: bool
    member_since: datetime


def badges(session: Session, user_ids: Iterable[int | None]) -> dict[int, Badge]:
    """Badges of these members, by id."""
    ids = sorted({i for i in user_ids if i is not None})
    if not ids:
        return {}
    snapshots = latest_snapshots(session, ids)
    people = session.execute(
        select(User.id, User.display_name, User.kyc_status, User.created_at).where(
            User.id.in_(ids)
        )
    )
    out = {}
    for uid, name, kyc, since in people:
        snap = snapshots.get(uid)
        out[uid] = Badge(
            user_id=uid,
            name=name,
            score=snap.feedback_score if snap else 0,
            star=snap.star_tier if snap and snap.star_tier != "none" else None,
            positive_bps=snap.percent_positive_bps if snap else None,
            identity_checked=kyc == KycStatus.VERIFIED,
            member_since=since,
        )
    return out
