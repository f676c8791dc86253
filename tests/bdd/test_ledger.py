"""Step code for features/ledger: wallet balances, holds, reversals. Steps that other
domains' features need too (money in a wallet, what a wallet shows, the ledger check)
live in tests/bdd/conftest.py."""

from __future__ import annotations

import re

import pytest
from pytest_bdd import given, scenarios, then, when

from p2pbank.errors import DomainError, InsufficientFunds, InvalidState
from p2pbank.ledger import holds, journal_reads, services
from p2pbank.money import Money
from tests.support.stories import phrase, shown_money

scenarios("ledger/wallet.feature")
scenarios("ledger/reversal.feature")


@pytest.fixture
def moves() -> dict:
    """This scenario's payments, holds and the last refusal."""
    return {"holds": {}, "payment": None, "refused": None}


def _pay(session, story, payer: str, payee: str, minor: int):
    entry = services.transfer(
        session,
        from_code=services.wallet_code(story.person(payer).id),
        to_code=services.ensure_wallet(session, story.person(payee).id).code,
        amount=Money(minor),
        kind="transfer",
        idempotency_key=f"bdd:pay:{payer}:{payee}:{minor}",
        memo=f"{payer} pays {payee}",
    )
    session.commit()
    return entry


@given(phrase("EUR {amount:Amount} of {name:Name}'s wallet is on hold for a pledge"))
def _on_hold(story, session, moves, amount, name):
    moves["holds"][name] = holds.hold(
        session,
        account_code=services.wallet_code(story.person(name).id),
        amount=Money(amount),
        idempotency_key=f"bdd:hold:{name}",
        ref_type="pledge",
        ref_id=1,
        memo="Pledge to a campaign",
    )
    session.commit()


@given(phrase("{payer:Name} has paid {payee:Name} EUR {amount:Amount}"))
def _has_paid(story, session, moves, payer, payee, amount):
    moves["payment"] = _pay(session, story, payer, payee, amount)


@when(phrase("the hold on {name:Name}'s wallet is released"))
def _release(session, moves, name):
    holds.release_hold(session, moves["holds"][name].id, idempotency_key=f"bdd:release:{name}")
    session.commit()


@when(phrase("{payer:Name} tries to pay {payee:Name} EUR {amount:Amount}"))
def _tries_to_pay(story, session, moves, payer, payee, amount):
    try:
        moves["payment"] = _pay(session, story, payer, payee, amount)
    except DomainError as exc:
        session.rollback()
        moves["refused"] = exc


@when(phrase('the payment is reversed because "{reason}"'))
def _reverse(session, moves, reason):
    moves["reversal"] = services.reverse_entry(
        session, moves["payment"].id, reason=reason, idempotency_key="bdd:reverse:payment"
    )
    session.commit()


@then("the payment is refused for insufficient funds")
def _refused(moves):
    assert isinstance(moves["refused"], InsufficientFunds), moves["refused"]


@then("the payment goes through")
def _went_through(moves):
    assert moves["refused"] is None, moves["refused"]
    assert moves["payment"] is not None


@then(
    phrase(
        "{name:Name}'s statement shows a {kind} of EUR {amount:Amount} "
        "with balance EUR {balance:Amount}"
    )
)
def _statement_shows(story, name, kind, amount, balance):
    browser = story.browser(name)
    page = browser.get("/wallet")
    if page.status_code == 302:
        browser.login(story.person(name).email)
        page = browser.get("/wallet")
    rows = re.findall(r"<tr>(.*?)</tr>", page.get_data(as_text=True), flags=re.S)
    wanted = [
        f'<span class="tag">{kind}</span>',
        f'<td class="num">{shown_money(story, amount)}</td>',
        f'<td class="num">{shown_money(story, balance)}</td>',
    ]
    assert any(all(part in row for part in wanted) for row in rows), (
        f"no {kind} of {amount} with balance {balance} on {name}'s statement"
    )


@then(phrase("{name:Name} sees the payment reversed by a linked entry"))
def _auditor_sees_link(story, moves, name):
    browser = story.browser(name)
    browser.login(story.person(name).email)
    payment, reversal = moves["payment"], moves["reversal"]
    original = browser.get(f"/ledger/entries/{payment.id}")
    assert original.status_code == 200
    assert f'href="/ledger/entries/{reversal.id}"' in original.get_data(as_text=True)
    linked = browser.get(f"/ledger/entries/{reversal.id}").get_data(as_text=True)
    assert f'href="/ledger/entries/{payment.id}"' in linked
    assert "sent by mistake" in linked
    story.remember(name, original)


@then("the payment cannot be reversed a second time")
def _not_twice(session, moves):
    with pytest.raises(InvalidState):
        services.reverse_entry(
            session, moves["payment"].id, reason="again", idempotency_key="bdd:reverse:again"
        )
    entry = journal_reads.entry_with_postings(session, moves["payment"].id)
    assert entry.reversed_by_entry_id == moves["reversal"].id
