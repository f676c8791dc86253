"""The public ranking of members by the lower bound of their rating, one page at a time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank import reputation as scores
from p2pbank.paging import Paged
from p2pbank.trust.queries import display_names
from p2pbank.trust.read.shown import rating_counts

PER_PAGE = 50


@dataclass(frozen=True)
class RankedMember:
    rank: int
    user_id: int
    display_name: str
    positives: int
    neutrals: int
    negatives: int
    wilson: float


@dataclass(frozen=True)
class Ranking(Paged):
    members: list[RankedMember]


def ranking(session: Session, *, page: int = 1, moment: datetime | None = None) -> Ranking:
    """Members rated in the last 12 months, best first by Wilson lower bound."""
    moment = moment or clock.now()
    page = max(page, 1)
    counts = rating_counts(session, moment)
    ranked = scores.rank_by_wilson(
        (uid, pos, pos + neg) for uid, (pos, _neu, neg) in sorted(counts.items())
    )
    window = ranked[(page - 1) * PER_PAGE : page * PER_PAGE]
    names = display_names(session, [uid for uid, _ in window])
    members = [
        RankedMember(
            rank=(page - 1) * PER_PAGE + n + 1,
            user_id=uid,
            display_name=names.get(uid, ""),
            positives=counts[uid][0],
            neutrals=counts[uid][1],
            negatives=counts[uid][2],
            wilson=bound,
        )
        for n, (uid, bound) in enumerate(window)
    ]
    return Ranking(members=members, page=page, per_page=PER_PAGE, total=len(ranked))
