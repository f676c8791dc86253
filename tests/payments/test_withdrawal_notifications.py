"""A withdrawal tells its owner when it is paid out, refused or reversed."""

from __future__ import annotations

from sqlalchemy import select

from p2pbank.notifications.models import Notification
from p2pbank.payments import payouts, queries, webhooks


def told(session, user_id: int) -> list[tuple[str, dict]]:
    session.expire_all()
    rows = session.scalars(
        select(Notification)
        .where(Notification.user_id == user_id, Notification.kind.like("withdrawal_%"))
        .order_by(Notification.id)
    )
    return [(n.kind, n.params) for n in rows]


AMOUNT = {"amount_minor": 6_000, "currency": "EUR"}


def test_a_paid_withdrawal_and_its_reversal_are_told(session, testmode_gateway, ready):
    payout = payouts.withdraw(
        session, testmode_gateway, ready.id, amount_minor=6_000, idempotency_key="w"
    )
    assert told(session, ready.id) == [("withdrawal_paid", AMOUNT)]
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    assert told(session, ready.id) == [("withdrawal_paid", AMOUNT)]  # converging says nothing
    testmode_gateway.reverse_transfer(payout.gateway_transfer_id, idempotency_key="rev")
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    assert told(session, ready.id) == [("withdrawal_paid", AMOUNT), ("withdrawal_failed", AMOUNT)]


def test_a_refused_withdrawal_is_told(session, testmode_gateway, ready):
    account = queries.payout_account(session, ready.id)
    state = testmode_gateway._get(account.gateway_account_id, "account")
    state["capabilities"] = {"transfers": "inactive"}
    testmode_gateway._put(state)
    payouts.withdraw(session, testmode_gateway, ready.id, amount_minor=6_000, idempotency_key="w")
    assert told(session, ready.id) == [("withdrawal_failed", AMOUNT)]
