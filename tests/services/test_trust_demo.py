"""The demo's reputation: seeded through the services, it shows revealed ratings between
the parties of completed loans and campaigns, a sealed one, a history of published scores
for every borrower, and a trust log whose published scores all recompute."""

from __future__ import annotations

from sqlalchemy import func, select

from p2pbank.audit.queries import entries, head_size
from p2pbank.audit.replay import replay
from p2pbank.audit.verify import parse_entry
from p2pbank.demo import seed
from p2pbank.identity.services import find_user_by_email
from p2pbank.trust import queries
from p2pbank.trust.models import Rating, RatingStatus, ScoreSnapshot


def test_the_demo_has_ratings_a_reputation_history_and_grades(session):
    lines = list(seed(session))
    assert any(line.startswith("trust:") for line in lines), lines

    eve = find_user_by_email(session, "eve@demo.p2pbank.test")
    about_eve = queries.member_profile(session, eve.id)
    assert about_eve.recent and {r.value for r in about_eve.recent} == {"positive"}
    assert {r.ratee_side for r in about_eve.recent} == {"borrower"}
    ian = find_user_by_email(session, "ian@demo.p2pbank.test")
    assert [r.rater_name for r in queries.member_profile(session, ian.id).recent] == ["Lena Lender"]
    (sealed,) = session.scalars(select(Rating).where(Rating.status == RatingStatus.SEALED))
    assert (sealed.rater_id, sealed.ratee_id) == (
        find_user_by_email(session, "bea@demo.p2pbank.test").id,
        ian.id,
    )

    dan = find_user_by_email(session, "dan@demo.p2pbank.test")
    history = session.scalar(
        select(func.count(func.distinct(ScoreSnapshot.as_of))).where(
            ScoreSnapshot.user_id == dan.id
        )
    )
    assert history >= 3  # his reputation as of several past months, and today
    assert queries.member_profile(session, dan.id).grade.grade in "DE"

    events = [
        parse_entry(leaf.sequence, bytes(leaf.data))[0]
        for leaf in entries(session, 0, head_size(session))
    ]
    assert len(events) == head_size(session)  # the demo log fits in one page of 1000
    result = replay(events)
    assert result.differences == [] and result.checked > 0
