"""Questions as pages and the API show them, and each answerer's 24-hour record."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.questions import rules
from p2pbank.questions.models import Question
from p2pbank.trust.badges import Badge, badges


@dataclass(frozen=True)
class QuestionView:
    id: int
    asker_id: int
    asker: Badge | None
    body: str
    asked_at: datetime
    answer: str | None
    answered_at: datetime | None
    hours: int  # to the answer, or waiting so far
    answered_in_time: bool


def for_subject(
    session: Session, subject_type: str, subject_id: int, now: datetime | None = None
) -> list[QuestionView]:
    """The visible questions of a listing or campaign, oldest first, askers' badges
    loaded once."""
    now = now or clock.now()
    rows = session.scalars(
        select(Question)
        .where(
            Question.subject_type == subject_type,
            Question.subject_id == subject_id,
            Question.hidden_at.is_(None),
        )
        .order_by(Question.id)
    ).all()
    found = badges(session, [q.asker_id for q in rows])
    return [
        QuestionView(
            id=q.id,
            asker_id=q.asker_id,
            asker=found.get(q.asker_id),
            body=q.body,
            asked_at=q.asked_at,
            answer=q.answer,
            answered_at=q.answered_at,
            hours=rules.hours_between(q.asked_at, q.answered_at or now),
            answered_in_time=rules.answered_in_time(q.asked_at, q.answered_at),
        )
        for q in rows
    ]


def answer_records(
    session: Session, owner_ids: Iterable[int] | None = None, now: datetime | None = None
) -> dict[int, tuple[int, int]]:
    """(answered within 24 h, questions that count) per answerer; all when owner_ids is
    None. Hidden questions do not count."""
    now = now or clock.now()
    stmt = select(Question.owner_id, Question.asked_at, Question.answered_at).where(
        Question.hidden_at.is_(None)
    )
    if owner_ids is not None:
        stmt = stmt.where(Question.owner_id.in_(sorted(set(owner_ids))))
    pairs: dict[int, list[tuple[datetime, datetime | None]]] = defaultdict(list)
    for owner_id, asked_at, answered_at in session.execute(stmt):
        pairs[owner_id].append((asked_at, answered_at))
    return {owner: rules.within_window_share(p, now) for owner, p in pairs.items()}
