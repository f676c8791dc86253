"""Withdrawals: KYC and two-factor checks, the hold on the wallet, the transfer to the
person's payout account, and what happens when the gateway refuses or reverses it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from p2pbank import clock
from p2pbank.errors import Conflict, Forbidden, InsufficientFunds, InvalidState, ValidationFailed
from p2pbank.identity import twofactor
from p2pbank.ledger.models import Hold, JournalEntry
from p2pbank.ledger.queries import balances, wallet_summary
from p2pbank.ledger.services import PLATFORM_GATEWAY_CLEARING
from p2pbank.payments import payouts, queries, services, webhooks
from p2pbank.payments.gateway import GatewayError
from p2pbank.payments.models import ConnectedAccount, Payout, PayoutStatus
from tests.support.payments import GOOD_IBAN, card_deposit, onboard

FAILING_BANK_IBAN = "DE62370400440532013001"


def test_withdraw_to_the_payout_account(session, testmode_gateway, ready):
    clearing_before = balances(session, PLATFORM_GATEWAY_CLEARING).posted
    payout = payouts.withdraw(
        session, testmode_gateway, ready.id, amount_minor=7_500, idempotency_key="w1"
    )
    assert payout.status == PayoutStatus.PAID
    assert payout.gateway_transfer_id.startswith("tr_")
    wallet = wallet_summary(session, ready.id)
    assert (wallet.posted, wallet.held, wallet.available) == (12_500, 0, 12_500)
    assert balances(session, PLATFORM_GATEWAY_CLEARING).posted == clearing_before + 7_500
    hold = session.get(Hold, payout.hold_id)
    assert hold.status == "captured" and hold.capture_entry_id == payout.ledger_entry_id
    transfer = testmode_gateway.get_transfer(payout.gateway_transfer_id)
    assert transfer.amount.minor == 7_500
    assert transfer.metadata[services.META_PAYOUT] == str(payout.id)
    # The transfer's own events converge on the same state.
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    session.refresh(payout)
    assert payout.status == PayoutStatus.PAID
    account = queries.payout_account(session, ready.id)
    assert account.last_bank_payout_status == "paid"
    assert wallet_summary(session, ready.id).available == 12_500


def test_the_same_key_is_one_withdrawal(session, testmode_gateway, ready):
    first = payouts.withdraw(
        session, testmode_gateway, ready.id, amount_minor=1_000, idempotency_key="once"
    )
    again = payouts.withdraw(
        session, testmode_gateway, ready.id, amount_minor=1_000, idempotency_key="once"
    )
    assert again.id == first.id
    assert wallet_summary(session, ready.id).available == 19_000
    with pytest.raises(Conflict):
        payouts.withdraw(
            session, testmode_gateway, ready.id, amount_minor=2_000, idempotency_key="once"
        )


def test_more_than_is_available_is_refused_and_nothing_is_held(session, testmode_gateway, ready):
    with pytest.raises(InsufficientFunds):
        payouts.withdraw(
            session, testmode_gateway, ready.id, amount_minor=20_001, idempotency_key="big"
        )
    assert session.scalar(select(func.count(Payout.id))) == 0
    wallet = wallet_summary(session, ready.id)
    assert (wallet.held, wallet.available) == (0, 20_000)


def test_kyc_must_be_verified(session, make_user, testmode_gateway):
    bo = make_user(kyc="pending")
    with pytest.raises(Forbidden):
        payouts.onboard_payouts(
            session, testmode_gateway, bo.id, refresh_url="http://x", return_url="http://x"
        )
    with pytest.raises(Forbidden):
        payouts.request_withdrawal(session, bo.id, amount_minor=100, idempotency_key="k")


def test_a_payout_account_is_needed(session, make_user, testmode_gateway):
    bo = make_user(kyc="verified")
    card_deposit(session, testmode_gateway, bo.id, 20_000, key=f"fund-{bo.id}")
    with pytest.raises(InvalidState):
        payouts.request_withdrawal(session, bo.id, amount_minor=100, idempotency_key="k")
    payouts.onboard_payouts(
        session, testmode_gateway, bo.id, refresh_url="http://x", return_url="http://x"
    )
    with pytest.raises(InvalidState):  # opened, but onboarding not finished
        payouts.request_withdrawal(session, bo.id, amount_minor=100, idempotency_key="k")


def test_onboarding_opens_one_account_and_checks_the_iban(session, make_user, testmode_gateway):
    bo = make_user(kyc="verified")
    for _ in range(2):
        payouts.onboard_payouts(
            session, testmode_gateway, bo.id, refresh_url="http://x", return_url="http://x"
        )
    assert session.scalar(select(func.count(ConnectedAccount.id))) == 1
    with pytest.raises(ValidationFailed):
        payouts.complete_test_onboarding(
            session, testmode_gateway, bo.id, iban="NL00 ABNA 0000 0000 00"
        )
    account = payouts.complete_test_onboarding(session, testmode_gateway, bo.id, iban=GOOD_IBAN)
    assert account.payouts_enabled and account.bank_last4 == "4300"


def test_two_factor_is_required_when_it_is_on(session, make_user, testmode_gateway, frozen_now):
    ada = make_user(kyc="verified", two_factor=True)
    card_deposit(session, testmode_gateway, ada.id, 20_000, key=f"fund-{ada.id}")
    onboard(session, testmode_gateway, ada)
    with pytest.raises(ValidationFailed) as missing:
        payouts.request_withdrawal(session, ada.id, amount_minor=100, idempotency_key="k")
    assert "totp_code" in missing.value.field_errors
    with pytest.raises(ValidationFailed) as wrong:
        payouts.request_withdrawal(
            session, ada.id, amount_minor=100, idempotency_key="k", totp_code="000000"
        )
    assert "totp_code" in wrong.value.field_errors
    assert session.scalar(select(func.count(Payout.id))) == 0
    clock.advance(timedelta(seconds=30))  # the enrolment used the current step's code
    session.refresh(ada)
    code = twofactor.code_at(ada.totp_secret, clock.now())
    payout = payouts.withdraw(
        session, testmode_gateway, ada.id, amount_minor=100, idempotency_key="k", totp_code=code
    )
    assert payout.status == PayoutStatus.PAID
    with pytest.raises(ValidationFailed):  # a code is never accepted twice
        payouts.request_withdrawal(
            session, ada.id, amount_minor=100, idempotency_key="k2", totp_code=code
        )


def test_a_refused_transfer_releases_the_hold_and_says_why(session, testmode_gateway, ready):
    # The gateway turned the payout account's transfers off after onboarding.
    account = queries.payout_account(session, ready.id)
    state = testmode_gateway._get(account.gateway_account_id, "account")
    state["capabilities"] = {"transfers": "inactive"}
    testmode_gateway._put(state)
    payout = payouts.withdraw(
        session, testmode_gateway, ready.id, amount_minor=5_000, idempotency_key="w"
    )
    assert payout.status == PayoutStatus.FAILED
    assert "capabilities" in payout.failure_message
    assert session.get(Hold, payout.hold_id).status == "released"
    wallet = wallet_summary(session, ready.id)
    assert (wallet.posted, wallet.held, wallet.available) == (20_000, 0, 20_000)
    notices = queries.payout_notices(session, ready.id)
    assert [n.payout_id for n in notices] == [payout.id]


def test_an_unreachable_gateway_leaves_the_request_held_for_a_retry(
    session, testmode_gateway, ready
):
    class Down:
        name = "test"
        is_test_mode = True

        def transfer_to_account(self, *args, **kwargs):
            from p2pbank.payments.gateway import GatewayUnavailable

            raise GatewayUnavailable("no answer")

    payout = payouts.request_withdrawal(session, ready.id, amount_minor=4_000, idempotency_key="r")
    with pytest.raises(Exception) as unavailable:
        payouts.send_payout(session, Down(), payout.id)
    assert unavailable.value.status == 503
    session.refresh(payout)
    assert payout.status == PayoutStatus.REQUESTED
    assert wallet_summary(session, ready.id).held == 4_000
    # The retry with the real gateway pays it, once.
    payouts.send_payout(session, testmode_gateway, payout.id)
    payouts.send_payout(session, testmode_gateway, payout.id)
    assert payout.status == PayoutStatus.PAID
    assert len(testmode_gateway.list_transfers()) == 1
    assert wallet_summary(session, ready.id).posted == 16_000


def test_a_bank_payout_failure_is_kept_for_the_person(session, make_user, testmode_gateway):
    lena = make_user(kyc="verified")
    card_deposit(session, testmode_gateway, lena.id, 20_000, key=f"fund-{lena.id}")
    onboard(session, testmode_gateway, lena, iban=FAILING_BANK_IBAN)
    payouts.withdraw(session, testmode_gateway, lena.id, amount_minor=1_000, idempotency_key="w")
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    account = queries.payout_account(session, lena.id)
    assert account.last_bank_payout_status == "failed"
    assert "could not be found" in account.last_bank_payout_message


def test_a_reversed_transfer_puts_the_money_back_with_a_reversing_entry(
    session, testmode_gateway, ready
):
    payout = payouts.withdraw(
        session, testmode_gateway, ready.id, amount_minor=6_000, idempotency_key="w"
    )
    testmode_gateway.reverse_transfer(payout.gateway_transfer_id, idempotency_key="rev")
    webhooks.deliver_test_mode_events(session, testmode_gateway)
    session.refresh(payout)
    assert payout.status == PayoutStatus.REVERSED
    reversal = session.get(JournalEntry, payout.reversal_entry_id)
    assert reversal.reverses_entry_id == payout.ledger_entry_id
    assert wallet_summary(session, ready.id).available == 20_000
    assert [n.status for n in queries.payout_notices(session, ready.id)] == ["reversed"]


def test_nothing_moves_when_the_transfer_belongs_to_another_payout(
    session, testmode_gateway, ready
):
    payout = payouts.request_withdrawal(session, ready.id, amount_minor=1_000, idempotency_key="a")
    account = queries.payout_account(session, ready.id)
    other = testmode_gateway.transfer_to_account(
        account.gateway_account_id,
        amount=__import__("p2pbank.money", fromlist=["Money"]).Money(1_000, "EUR"),
        reference={services.META_PAYOUT: str(payout.id + 1)},
        idempotency_key="foreign",
    )
    with pytest.raises(services.AmountMismatch):
        payouts.apply_transfer_state(session, payout, other)
    session.rollback()
    session.refresh(payout)
    assert payout.status == PayoutStatus.REQUESTED


def test_send_payout_of_unknown_payout(session, testmode_gateway):
    from p2pbank.errors import NotFound

    with pytest.raises(NotFound):
        payouts.send_payout(session, testmode_gateway, 999_999)


def test_transfer_errors_are_gateway_errors(testmode_gateway):
    with pytest.raises(GatewayError):
        testmode_gateway.get_transfer("tr_missing")
