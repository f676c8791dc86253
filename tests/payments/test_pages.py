"""The payment pages through the real app (test-mode gateway): happy paths, errors and who
may see what."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from p2pbank.ledger.queries import wallet_summary
from p2pbank.payments.models import Payment, PaymentStatus, Payout

BANNER = "test mode — no real money"


def _deposit_id(response) -> int:
    match = re.search(r"/payments/deposits/(\d+)$", response.headers["Location"])
    assert match, response.headers.get("Location")
    return int(match.group(1))


def _start(browser, amount="100.00"):
    page = browser.get("/payments/deposit").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    return browser.submit("/payments/deposit", {"amount": amount, "idempotency_key": key})


def test_deposit_with_a_good_card(signed_in, make_user, session):
    lena = make_user(roles=["lender"])
    browser = signed_in(lena)
    page = browser.get("/payments/deposit")
    assert page.status_code == 200
    assert BANNER in page.get_data(as_text=True)
    started = _start(browser, "1,250.50")
    assert started.status_code == 302
    payment_id = _deposit_id(started)
    page = browser.get(f"/payments/deposits/{payment_id}").get_data(as_text=True)
    assert BANNER in page and "4242 4242 4242 4242" in page and 'name="card_number"' in page
    paid = browser.submit(
        f"/payments/deposits/{payment_id}",
        {"card_number": "4242 4242 4242 4242"},
        action=f"/payments/deposits/{payment_id}/card",
    )
    assert paid.status_code == 302
    page = browser.get(f"/payments/deposits/{payment_id}").get_data(as_text=True)
    assert "Payment received" in page
    assert 'data-status="succeeded"' in page
    assert wallet_summary(session, lena.id).available == 125_050


def test_declined_card_shows_why_and_credits_nothing(signed_in, make_user, session):
    lena = make_user()
    browser = signed_in(lena)
    payment_id = _deposit_id(_start(browser))
    browser.submit(
        f"/payments/deposits/{payment_id}",
        {"card_number": "4000000000000002"},
        action=f"/payments/deposits/{payment_id}/card",
    )
    page = browser.get(f"/payments/deposits/{payment_id}").get_data(as_text=True)
    assert "Your card was declined." in page
    assert 'data-status="failed"' in page
    assert wallet_summary(session, lena.id).available == 0


def test_three_d_secure_page(signed_in, make_user, session):
    lena = make_user()
    browser = signed_in(lena)
    payment_id = _deposit_id(_start(browser, "50"))
    browser.submit(
        f"/payments/deposits/{payment_id}",
        {"card_number": "4000002760003184"},
        action=f"/payments/deposits/{payment_id}/card",
    )
    page = browser.get(f"/payments/deposits/{payment_id}").get_data(as_text=True)
    assert "Complete authentication" in page
    browser.submit(
        f"/payments/deposits/{payment_id}",
        {"outcome": "complete"},
        action=f"/payments/deposits/{payment_id}/authenticate",
    )
    assert wallet_summary(session, lena.id).available == 5_000


def test_cancel_a_deposit(signed_in, make_user, session):
    lena = make_user()
    browser = signed_in(lena)
    payment_id = _deposit_id(_start(browser))
    browser.submit(
        f"/payments/deposits/{payment_id}", {}, action=f"/payments/deposits/{payment_id}/cancel"
    )
    session.expire_all()
    assert session.get(Payment, payment_id).status == PaymentStatus.CANCELED


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("5", "The smallest deposit is €10.00."),
        ("25000.01", "The largest deposit is €25,000.00."),
        ("ten", "Enter an amount such as 25.00."),
        ("-10", "Enter an amount such as 25.00."),
        ("10.001", "Enter an amount such as 25.00."),
    ],
)
def test_deposit_amounts_are_checked(signed_in, make_user, session, amount, message):
    browser = signed_in(make_user())
    response = _start(browser, amount)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Payment.id))) == 0


def test_someone_elses_deposit_is_not_found(signed_in, make_user):
    lena, bo = make_user(), make_user()
    payment_id = _deposit_id(_start(signed_in(lena)))
    other = signed_in(bo)
    assert other.get(f"/payments/deposits/{payment_id}").status_code == 404
    paid = other.submit(
        "/payments/deposit",
        {"card_number": "4242424242424242"},
        action=f"/payments/deposits/{payment_id}/card",
    )
    assert paid.status_code == 404


def test_anonymous_is_sent_to_sign_in(client):
    for path in (
        "/payments",
        "/payments/deposit",
        "/payments/withdraw",
        "/payments/payout-account",
    ):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_payout_account_and_withdrawal(signed_in, make_user, session):
    lena = make_user(kyc="verified")
    browser = signed_in(lena)
    payment_id = _deposit_id(_start(browser, "200"))
    browser.submit(
        f"/payments/deposits/{payment_id}",
        {"card_number": "4242424242424242"},
        action=f"/payments/deposits/{payment_id}/card",
    )
    page = browser.get("/payments/withdraw").get_data(as_text=True)
    assert "Set up your payout account first." in page and BANNER in page
    started = browser.submit("/payments/payout-account", {})
    assert started.headers["Location"].endswith("/payments/payout-account/return")
    assert browser.get(started.headers["Location"]).status_code == 302
    page = browser.get("/payments/payout-account").get_data(as_text=True)
    assert 'name="iban"' in page
    refused = browser.submit(
        "/payments/payout-account",
        {"iban": "NL00BANK0000000000"},
        action="/payments/payout-account/test-bank",
    )
    assert refused.status_code == 422 and "not valid" in refused.get_data(as_text=True)
    browser.submit(
        "/payments/payout-account",
        {"iban": "DE89 3704 0044 0532 0130 00"},
        action="/payments/payout-account/test-bank",
    )
    assert "Ready for withdrawals." in browser.get("/payments/payout-account").get_data(
        as_text=True
    )
    page = browser.get("/payments/withdraw").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    too_much = browser.submit("/payments/withdraw", {"amount": "500", "idempotency_key": key})
    assert too_much.status_code == 422
    assert "less than that available" in too_much.get_data(as_text=True)
    done = browser.submit("/payments/withdraw", {"amount": "120", "idempotency_key": key})
    assert done.status_code == 302
    page = browser.get("/payments").get_data(as_text=True)
    assert "is on its way to your bank account" in page
    assert wallet_summary(session, lena.id).available == 8_000
    assert session.scalar(select(func.count(Payout.id))) == 1


def test_withdrawal_needs_kyc(signed_in, make_user):
    browser = signed_in(make_user(kyc="pending"))
    page = browser.get("/payments/withdraw").get_data(as_text=True)
    assert "Withdrawals need a verified identity check (KYC)." in page
    assert browser.submit("/payments/payout-account", {}).status_code == 403


def test_dashboard_panel_shows_the_banner_and_links(signed_in, make_user):
    page = signed_in(make_user()).get("/dashboard").get_data(as_text=True)
    assert BANNER in page
    assert "/payments/deposit" in page and "/payments/withdraw" in page


def test_reconciliation_is_for_auditors(signed_in, make_user):
    member = signed_in(make_user())
    assert member.get("/payments/reconciliation").status_code == 403
    auditor = signed_in(make_user(roles=["auditor"]))
    page = auditor.get("/payments/reconciliation")
    assert page.status_code == 200
    assert 'data-reconciled="ok"' in page.get_data(as_text=True)
    assert auditor.get("/payments/reconciliation?since=yesterday").status_code == 422


def test_refunds_are_for_admins(signed_in, make_user, session):
    lena = make_user()
    browser = signed_in(lena)
    payment_id = _deposit_id(_start(browser, "80"))
    browser.submit(
        f"/payments/deposits/{payment_id}",
        {"card_number": "4242424242424242"},
        action=f"/payments/deposits/{payment_id}/card",
    )
    assert browser.get("/payments/refunds").status_code == 403
    admin = signed_in(make_user(roles=["admin"]))
    page = admin.get("/payments/refunds").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" value="([^"]+)"', page).group(1)
    too_much = admin.submit(
        "/payments/refunds",
        {"payment_id": str(payment_id), "amount": "81", "reason": "r", "idempotency_key": key},
    )
    assert too_much.status_code == 422
    done = admin.submit(
        "/payments/refunds",
        {"payment_id": str(payment_id), "amount": "30", "reason": "asked", "idempotency_key": key},
    )
    assert done.status_code == 302
    assert wallet_summary(session, lena.id).available == 5_000


def test_with_stripe_the_card_is_taken_by_stripe_js(stripe_app, make_user, session):
    """With a Stripe key the deposit page mounts Stripe's Payment Element (the card never
    reaches our server) and allows exactly Stripe.js in its content security policy."""
    from tests.support.pages import Browser

    stripe_app.config["STRIPE_PUBLISHABLE_KEY"] = "pk_test_p2pbank"
    lena = make_user()
    browser = Browser(stripe_app.test_client())
    assert browser.login(lena.email).status_code == 302
    payment_id = _deposit_id(_start(browser, "30"))
    response = browser.get(f"/payments/deposits/{payment_id}")
    page = response.get_data(as_text=True)
    payment = session.get(Payment, payment_id)
    assert payment.gateway == "stripe"
    assert f'data-client-secret="{payment.gateway_payment_id}_secret_' in page
    assert 'data-publishable-key="pk_test_p2pbank"' in page
    assert "https://js.stripe.com/v3/" in page and 'name="card_number"' not in page
    assert BANNER in page  # a test key: still no real money
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self' https://js.stripe.com;" in csp and "unsafe-inline" not in csp
    assert "js.stripe.com" not in browser.get("/payments").headers["Content-Security-Policy"]
    # Test cards are not accepted on our own form when Stripe takes the payments.
    refused = browser.submit(
        "/payments/deposit",
        {"card_number": "4242424242424242"},
        action=f"/payments/deposits/{payment_id}/card",
    )
    assert refused.status_code == 409
