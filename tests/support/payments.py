"""Payments for tests: deposits through the test-mode gateway and payout accounts, the way
the deposit and payout pages start them."""

from __future__ import annotations

from p2pbank.payments import payouts, services, webhooks

GOOD_CARD = "4242424242424242"
GOOD_IBAN = "NL91 ABNA 0417 1643 00"


def card_deposit(session, gateway, user_id: int, minor: int, *, key: str, card=GOOD_CARD):
    """A deposit started at the gateway; with a card number (None: left unpaid) it is paid
    and the gateway's events are delivered. Returns the payment, read afresh."""
    started = services.start_deposit(
        session, gateway, user_id, amount_minor=minor, idempotency_key=key
    )
    if card is not None:
        services.complete_test_card_payment(
            session, gateway, user_id, started.payment.id, card_number=card
        )
        webhooks.deliver_test_mode_events(session, gateway)
    session.refresh(started.payment)
    return started.payment


def onboard(session, gateway, user, iban: str = GOOD_IBAN):
    """The user's payout account, onboarded in test mode (straight back to our own page)."""
    url = payouts.onboard_payouts(
        session, gateway, user.id, refresh_url="http://x/refresh", return_url="http://x/back"
    )
    assert url == "http://x/back"  # test mode: straight back to our own page
    return payouts.complete_test_onboarding(session, gateway, user.id, iban=iban)
