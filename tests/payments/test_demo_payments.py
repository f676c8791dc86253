"""The demo's card deposits go through the real payment flow and reconcile."""

from __future__ import annotations

from sqlalchemy import select

from p2pbank import demo
from p2pbank.identity.services import find_user_by_email
from p2pbank.ledger.queries import wallet_summary
from p2pbank.payments.models import Payment, Payout
from p2pbank.payments.reconcile import reconcile
from p2pbank.payments.sandbox_gateway import SandboxGateway


def test_demo_deposits_and_withdrawal(session):
    list(demo._seed_people(session))
    lines = list(demo.seed_payments(session))
    assert any("succeeded" in line for line in lines) and any("failed" in line for line in lines)
    lena = find_user_by_email(session, "lena@demo.p2pbank.test")
    bo = find_user_by_email(session, "bo@demo.p2pbank.test")
    lars = find_user_by_email(session, "lars@demo.p2pbank.test")
    assert wallet_summary(session, lena.id).available == 100_000
    assert wallet_summary(session, bo.id).available == 0
    assert wallet_summary(session, lars.id).available == 20_000
    statuses = {p.status for p in session.scalars(select(Payment).where(Payment.user_id == bo.id))}
    assert statuses == {"failed"}
    assert session.scalar(select(Payout.status).where(Payout.user_id == lars.id)) == "paid"
    report = reconcile(session, SandboxGateway(session, webhook_secret="any"))
    assert report.ok, report.problems
