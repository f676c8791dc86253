"""What others see of a member at a glance: the badge beside every name (the published
feedback score and its star colour, % positive over 12 months, identity checked, member
since), and the profile's feedback table and repayment record. The badge's figures are
the member's latest published score snapshot (replayable from the trust log), loaded for
a whole page in two queries however many names it shows."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, case, func, select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.identity.models import KycStatus, User
from p2pbank.reputation import months_before
from p2pbank.trust.models import Rating, RepaymentKind, RepaymentRecord
from p2pbank.trust.queries import latest_snapshots, visible


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
        select(User.id, User.display_name, User.kyc_status, User.created_at).where(User.id.in_(ids))
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


# --- the profile at a glance -------------------------------------------------------------

WINDOWS = (1, 6, 12)  # months: eBay's feedback table


@dataclass(frozen=True)
class FeedbackWindow:
    months: int
    positives: int
    neutrals: int
    negatives: int


def feedback_windows(
    session: Session, user_id: int, moment: datetime | None = None
) -> list[FeedbackWindow]:
    """Ratings others can see, received in the last 1, 6 and 12 months (one query)."""
    moment = moment or clock.now()
    starts = {months: months_before(moment, months) for months in WINDOWS}
    columns = [
        func.sum(case((and_(Rating.value == value, Rating.submitted_at >= starts[m]), 1), else_=0))
        for m in WINDOWS
        for value in (1, 0, -1)
    ]
    row = session.execute(
        select(*columns).where(
            Rating.ratee_id == user_id,
            visible(moment),
            Rating.submitted_at >= starts[max(WINDOWS)],
            Rating.submitted_at <= moment,
        )
    ).one()
    counts = [int(value or 0) for value in row]
    return [FeedbackWindow(m, *counts[i * 3 : i * 3 + 3]) for i, m in enumerate(WINDOWS)]


def repayment_record(session: Session, user_id: int) -> dict[str, int]:
    """How many instalments a member paid on time or late, and loans in default or cured."""
    rows = session.execute(
        select(RepaymentRecord.kind, func.count())
        .where(RepaymentRecord.user_id == user_id)
        .group_by(RepaymentRecord.kind)
    )
    record = {kind.value: 0 for kind in RepaymentKind}
    record.update({str(kind): int(count) for kind, count in rows})
    return record
