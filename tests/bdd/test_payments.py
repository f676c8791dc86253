"""Step code for features/payments: deposits with a card, withdrawals to a bank account,
forged webhooks. Everything runs on the embedded test-mode gateway, through the pages
and the webhook endpoint."""

from __future__ import annotations

import json
import re
import time

from pytest_bdd import given, scenarios, then, when
from sqlalchemy import func, select

from p2pbank.ledger.models import JournalEntry
from p2pbank.ledger.queries import balances
from p2pbank.payments import services, signature, webhooks
from p2pbank.payments.models import Payment, PaymentStatus
from p2pbank.payments.reconcile import reconcile
from p2pbank.payments.settings import PaymentSettings, make_gateway
from tests.support.stories import phrase

scenarios("payments/deposit_with_a_card.feature")
scenarios("payments/withdraw_to_a_bank_account.feature")
scenarios("payments/forged_webhook.feature")

SOMEONE = "someone"


def _settings(story) -> PaymentSettings:
    return PaymentSettings.from_mapping(story.app.config)


def _gateway(story, session):
    """The gateway the app uses (test mode), working in the scenario's transaction."""
    return make_gateway(session, _settings(story))


def _text(minor: int) -> str:
    return f"{minor // 100}.{minor % 100:02d}"


def _key(page_html: str) -> str:
    return re.search(r'name="idempotency_key" value="([^"]+)"', page_html).group(1)


def _start_on_the_page(story, name: str, minor: int):
    browser = story.browser(name)
    key = _key(browser.get("/payments/deposit").get_data(as_text=True))
    response = browser.submit("/payments/deposit", {"amount": _text(minor), "idempotency_key": key})
    story.remember(name, response)
    match = re.search(r"/payments/deposits/(\d+)$", response.headers.get("Location", ""))
    if match:
        story.note(name)["payment_id"] = int(match.group(1))
    return response


# --- deposits ------------------------------------------------------------------------------


@when(phrase("{name:Name} deposits EUR {amount:Amount} with the card {card}"))
def _deposits_with_card(story, name, amount, card):
    response = _start_on_the_page(story, name, amount)
    assert response.status_code == 302, story.text(name)
    payment_id = story.note(name)["payment_id"]
    paid = story.browser(name).submit(
        f"/payments/deposits/{payment_id}",
        {"card_number": card},
        action=f"/payments/deposits/{payment_id}/card",
        follow_redirects=True,
    )
    story.remember(name, paid)


@when(phrase("{name:Name} completes the authentication"))
def _completes_authentication(story, name):
    payment_id = story.note(name)["payment_id"]
    story.remember(
        name,
        story.browser(name).submit(
            f"/payments/deposits/{payment_id}",
            {"outcome": "complete"},
            action=f"/payments/deposits/{payment_id}/authenticate",
            follow_redirects=True,
        ),
    )


@when(phrase("{name:Name} tries to deposit EUR {amount:Amount}"))
def _tries_to_deposit(story, name, amount):
    _start_on_the_page(story, name, amount)


@then(phrase("the gateway's fee of EUR {amount:Amount} is booked as a platform expense"))
def _fee_booked(session, amount):
    assert balances(session, services.GATEWAY_FEES).posted == -amount


@then("no deposit was booked in the ledger")
def _no_deposit_booked(session):
    session.expire_all()
    count = session.scalar(
        select(func.count(JournalEntry.id)).where(JournalEntry.kind.in_(["deposit", "gateway_fee"]))
    )
    assert count == 0


@given(phrase("{name:Name} has deposited EUR {amount:Amount} with a card"))
def _has_deposited(story, session, name, amount):
    """Through the payment services and the gateway's own events, as the pages do."""
    gateway = _gateway(story, session)
    person = story.person(name)
    started = services.start_deposit(
        session, gateway, person.id, amount_minor=amount, idempotency_key="bdd-deposit"
    )
    services.complete_test_card_payment(
        session, gateway, person.id, started.payment.id, card_number="4242424242424242"
    )
    webhooks.deliver_test_mode_events(session, gateway)
    session.refresh(started.payment)
    assert started.payment.status == PaymentStatus.SUCCEEDED


# --- withdrawals ---------------------------------------------------------------------------


@when(phrase("{name:Name} sets up payouts to the bank account {iban}"))
def _sets_up_payouts(story, name, iban):
    browser = story.browser(name)
    started = browser.submit("/payments/payout-account", {})
    assert started.status_code == 302, started.get_data(as_text=True)
    browser.get(started.headers["Location"], follow_redirects=True)
    saved = browser.submit(
        "/payments/payout-account",
        {"iban": iban},
        action="/payments/payout-account/test-bank",
        follow_redirects=True,
    )
    assert "Ready for withdrawals." in saved.get_data(as_text=True)
    story.remember(name, saved)


@when(phrase("{name:Name} withdraws EUR {amount:Amount}"))
def _withdraws(story, name, amount):
    browser = story.browser(name)
    key = _key(browser.get("/payments/withdraw").get_data(as_text=True))
    story.remember(
        name,
        browser.submit(
            "/payments/withdraw",
            {"amount": _text(amount), "idempotency_key": key},
            follow_redirects=True,
        ),
    )


@then("the reconciliation with the gateway finds every amount matched")
def _reconciled(story, session):
    report = reconcile(session, _gateway(story, session))
    assert report.ok, report.problems
    assert {line.kind for line in report.lines} >= {"payment", "fee", "transfer"}


# --- webhooks ------------------------------------------------------------------------------


@given(phrase("{name:Name} has started a deposit of EUR {amount:Amount}"))
def _has_started(story, session, name, amount):
    started = services.start_deposit(
        session,
        _gateway(story, session),
        story.person(name).id,
        amount_minor=amount,
        idempotency_key="bdd-webhook",
    )
    story.note(name)["payment_id"] = started.payment.id
    story.note(name)["amount"] = amount


@given(phrase("{name:Name} has paid it with the card {card}"))
def _has_paid(story, session, name, card):
    """The gateway took the card; its confirmation has not reached the platform yet."""
    gateway = _gateway(story, session)
    person = story.person(name)
    services.complete_test_card_payment(
        session, gateway, person.id, story.note(name)["payment_id"], card_number=card
    )
    payment = session.get(Payment, story.note(name)["payment_id"])
    for row in gateway.undelivered_events():
        body = json.loads(row.payload)
        if body["type"] == "payment_intent.succeeded" and (
            body["data"]["object"]["id"] == payment.gateway_payment_id
        ):
            story.note(name)["confirmation"] = row.payload.encode()
    assert "confirmation" in story.note(name), "the gateway sent no confirmation"


def _post(story, payload: bytes, header: str):
    response = story.browser(SOMEONE).client.post(
        "/webhooks/stripe",
        data=payload,
        headers={"Stripe-Signature": header, "Content-Type": "application/json"},
    )
    story.remember(SOMEONE, response)
    return response


def _signed(story, payload: bytes, *, secret: str | None = None, age: int = 0) -> str:
    return signature.sign(
        payload, secret or _settings(story).test_webhook_secret, int(time.time()) - age
    )


@when(
    phrase(
        "someone sends the payment confirmation for {name:Name}'s deposit "
        "signed with another secret"
    )
)
def _wrong_secret(story, name):
    payload = story.note(name)["confirmation"]
    _post(story, payload, _signed(story, payload, secret="whsec_guessed_by_an_attacker"))


@when(
    phrase(
        "someone sends the payment confirmation for {name:Name}'s deposit "
        "with the amount changed to EUR {amount:Amount}"
    )
)
def _changed_amount(story, name, amount):
    payload = story.note(name)["confirmation"]
    header = _signed(story, payload)  # a genuine signature ...
    body = json.loads(payload)
    body["data"]["object"]["amount"] = amount  # ... over a body that is then changed
    body["data"]["object"]["amount_received"] = amount
    _post(story, json.dumps(body).encode(), header)


@when(
    phrase(
        "someone sends the payment confirmation for {name:Name}'s deposit "
        "signed {minutes:d} minutes ago"
    )
)
def _old_signature(story, name, minutes):
    payload = story.note(name)["confirmation"]
    _post(story, payload, _signed(story, payload, age=minutes * 60))


@when(phrase("the gateway delivers the payment confirmation for {name:Name}'s deposit"))
def _genuine(story, name):
    payload = story.note(name)["confirmation"]
    story.note(SOMEONE)["delivery"] = payload
    response = _post(story, payload, _signed(story, payload))
    assert response.status_code == 200, story.text(SOMEONE)


@when("the same delivery arrives again")
def _again(story):
    payload = story.note(SOMEONE)["delivery"]
    _post(story, payload, _signed(story, payload))


@then(phrase("the webhook is refused with {status:d}"))
def _refused(story, status):
    assert story.last.status_code == status, story.text()
    assert story.last.mimetype == "application/problem+json"


@then(phrase("{name:Name}'s deposit is still pending"))
def _still_pending(story, session, name):
    session.expire_all()
    assert session.get(Payment, story.note(name)["payment_id"]).status == PaymentStatus.PENDING


@then("the second delivery is acknowledged as a duplicate")
def _duplicate(story):
    assert story.last.status_code == 200
    assert story.last.json["duplicate"] is True
