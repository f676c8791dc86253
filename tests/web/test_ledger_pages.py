"""Wallet and ledger pages: what each person sees, CSV export, and who may see what."""

from __future__ import annotations

import csv
import io
import re

import pytest

from p2pbank.ledger import holds, services
from p2pbank.ledger.services import PLATFORM_FEES
from p2pbank.ledger.services import PLATFORM_GATEWAY_CLEARING as CLEARING
from p2pbank.money import Money
from tests.support import money


@pytest.fixture
def money_moved(session, make_user):
    """Lena deposits EUR 120.00, pays Bo EUR 20.50, has EUR 10.00 on hold."""
    lena, bo = make_user(name="Lena"), make_user(name="Bo")
    auditor = make_user(roles=["auditor"], kyc="verified", name="Ada")
    services.ensure_platform_account(session, CLEARING)
    services.ensure_platform_account(session, PLATFORM_FEES)
    services.ensure_wallet(session, lena.id)
    services.ensure_wallet(session, bo.id)
    deposit = money.deposit(
        session,
        lena.id,
        12_000,
        key="deposit:1",
        memo='=HYPERLINK("http://evil")',
        commit=False,
    )
    pay = services.transfer(
        session,
        from_code=services.wallet_code(lena.id),
        to_code=services.wallet_code(bo.id),
        amount=Money(2_050),
        kind="transfer",
        idempotency_key="pay:1",
        memo="Dinner <b>share</b>",
    )
    held = holds.hold(
        session,
        account_code=services.wallet_code(lena.id),
        amount=Money(1_000),
        idempotency_key="hold:1",
        memo="Pledge to the bakery",
    )
    session.commit()
    return {
        "lena": lena,
        "bo": bo,
        "auditor": auditor,
        "deposit": deposit,
        "pay": pay,
        "hold": held,
    }


def test_wallet_shows_available_held_posted_and_the_statement(signed_in, money_moved):
    page = signed_in(money_moved["lena"]).get("/wallet")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert 'data-balance="available">€89.50' in html
    assert 'data-balance="held">€10.00' in html
    assert 'data-balance="posted">€99.50' in html
    assert "Pledge to the bakery" in html
    # running balance: 120.00 after the deposit, 99.50 after paying Bo
    assert "€120.00" in html and "-€20.50" in html
    assert "Dinner &lt;b&gt;share&lt;/b&gt;" in html  # escaped, never raw HTML


def test_wallet_of_someone_without_money_is_empty_not_an_error(signed_in, make_user):
    page = signed_in(make_user()).get("/wallet")
    assert page.status_code == 200
    assert "No money has moved yet." in page.get_data(as_text=True)


def test_wallet_shows_only_my_own_money(signed_in, money_moved):
    html = signed_in(money_moved["bo"]).get("/wallet").get_data(as_text=True)
    assert 'data-balance="available">€20.50' in html
    assert "Pledge to the bakery" not in html
    assert "=HYPERLINK" not in html


def test_wallet_needs_sign_in(client):
    response = client.get("/wallet")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/wallet/statement.csv").status_code == 302


def test_wallet_statement_pages(signed_in, money_moved):
    browser = signed_in(money_moved["lena"])
    first = browser.get("/wallet?per_page=1").get_data(as_text=True)
    assert "Dinner" in first and 'rel="next"' in first
    second = browser.get("/wallet?per_page=1&page=2").get_data(as_text=True)
    assert "Dinner" not in second and "€120.00" in second
    assert browser.get("/wallet?page=0").status_code == 422
    assert browser.get("/wallet?per_page=5000").status_code == 422


def test_csv_export_has_exact_amounts_running_balance_and_no_formulas(signed_in, money_moved):
    response = signed_in(money_moved["lena"]).get("/wallet/statement.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["date", "entry", "kind", "description", "amount", "balance", "currency"]
    assert [r[2:] for r in rows[1:]] == [
        ["deposit", '\'=HYPERLINK("http://evil")', "120.00", "120.00", "EUR"],
        ["transfer", "Dinner <b>share</b>", "-20.50", "99.50", "EUR"],
    ]


def test_dashboard_has_a_wallet_panel_and_nav_items(signed_in, money_moved):
    html = signed_in(money_moved["lena"]).get("/dashboard").get_data(as_text=True)
    assert "wallet-panel" in html and "€89.50" in html
    assert 'href="/wallet"' in html
    assert 'href="/ledger"' not in html
    auditor_html = signed_in(money_moved["auditor"]).get("/dashboard").get_data(as_text=True)
    assert 'href="/ledger"' in auditor_html


AUDITOR_PAGES = [
    "/ledger",
    "/ledger/trial-balance",
    "/ledger/check",
    "/ledger/accounts",
    "/ledger/accounts/platform:gateway_clearing",
    "/ledger/entries/{deposit}",
]


@pytest.mark.parametrize("path", AUDITOR_PAGES)
def test_auditor_pages_are_for_auditors_only(signed_in, client, make_user, money_moved, path):
    path = path.format(deposit=money_moved["deposit"].id)
    assert signed_in(money_moved["auditor"]).get(path).status_code == 200
    assert signed_in(money_moved["lena"]).get(path).status_code == 403
    assert client.get(path).status_code == 302
    admin = make_user(roles=["admin"], kyc="verified", email="admin@example.test")
    assert signed_in(admin).get(path).status_code == 200


def test_auditor_sees_any_account_with_statement_and_holds(signed_in, money_moved):
    code = services.wallet_code(money_moved["lena"].id)
    html = signed_in(money_moved["auditor"]).get(f"/ledger/accounts/{code}").get_data(as_text=True)
    assert code in html
    assert 'data-balance="held">€10.00' in html
    assert "Pledge to the bakery" in html
    assert f"/ledger/entries/{money_moved['pay'].id}" in html


def test_auditor_sees_an_entry_with_debits_credits_and_hash(signed_in, money_moved):
    entry = money_moved["pay"]
    html = (
        signed_in(money_moved["auditor"]).get(f"/ledger/entries/{entry.id}").get_data(as_text=True)
    )
    assert entry.content_hash in html
    assert services.wallet_code(money_moved["lena"].id) in html
    assert services.wallet_code(money_moved["bo"].id) in html
    cells = re.sub(r"\s+", " ", html)
    # Lena: debit 20.50, no credit, 99.50 after; Bo: no debit, credit 20.50, 20.50 after.
    assert '<td class="num">€20.50</td> <td class="num"></td> <td class="num">€99.50</td>' in cells
    assert '<td class="num"></td> <td class="num">€20.50</td> <td class="num">€20.50</td>' in cells


def test_trial_balance_and_check_pages(signed_in, money_moved):
    browser = signed_in(money_moved["auditor"])
    trial = browser.get("/ledger/trial-balance").get_data(as_text=True)
    assert 'data-balanced="yes"' in trial
    assert "€120.00" in trial  # the clearing account's debit equals the credits
    check = browser.get("/ledger/check").get_data(as_text=True)
    assert 'data-check="ok"' in check


def test_account_search_and_missing_things(signed_in, money_moved):
    browser = signed_in(money_moved["auditor"])
    found = browser.get("/ledger/accounts?prefix=platform:").get_data(as_text=True)
    assert "platform:gateway_clearing" in found
    assert services.wallet_code(money_moved["lena"].id) not in found
    assert browser.get("/ledger/accounts/user:999999:wallet").status_code == 404
    assert browser.get("/ledger/entries/999999").status_code == 404
