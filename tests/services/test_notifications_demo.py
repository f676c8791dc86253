"""On a fresh demo the bell shows something: the demo people keep the last week's
notifications unread; the replayed past is read and is never mailed."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.demo import DEMO_PEOPLE, seed
from p2pbank.identity.services import find_user_by_email
from p2pbank.notifications import queries
from p2pbank.notifications.models import Notification


def test_the_demo_people_have_a_few_unread_notifications(session):
    lines = list(seed(session))
    assert any(line.startswith("notifications:") for line in lines)
    unread = {}
    for email, *_rest in DEMO_PEOPLE:
        user = find_user_by_email(session, email)
        unread[email] = queries.unread_count(session, user.id)
    assert unread["lena@demo.p2pbank.test"] > 0
    assert unread["bo@demo.p2pbank.test"] > 0
    assert all(count < 50 for count in unread.values()), unread
    kinds = set(session.scalars(select(Notification.kind).distinct()))
    assert {"repayment_received", "loan_funded", "kyc_verified"} <= kinds
    week_ago = clock.now() - timedelta(days=7)
    old_mail = select(func.count(Notification.id)).where(
        Notification.email_state == "pending", Notification.created_at < week_ago
    )
    assert session.scalar(old_mail) == 0  # the replayed past is not mailed
