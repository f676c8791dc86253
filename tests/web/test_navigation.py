"""The top bar: menus grouped by what a person does, one row however many roles."""

from __future__ import annotations

import re


def top_bar(html: str) -> str:
    return html[html.index('<header class="top">') : html.index("</header>")]


def test_a_member_with_every_role_gets_a_few_menus_holding_every_page(make_user, signed_in):
    person = make_user(
        roles=["lender", "borrower", "initiator", "backer", "auditor", "admin"], kyc="verified"
    )
    bar = top_bar(signed_in(person).get("/dashboard").get_data(as_text=True))
    menus = re.findall(r'<details class="menu[^"]*" data-menu="([a-z]+)">', bar)
    assert menus == ["lend", "borrow", "campaigns", "wallet", "audit", "admin", "person"]
    for path in (
        "/lending/",
        "/lending/lend",
        "/lending/borrow",
        "/campaigns",
        "/wallet",
        "/payments",
        "/audit/",
        "/trust/ratings",
        "/settings",
        "/dashboard",
    ):
        assert f'href="{path}"' in bar, path
    assert "Sign out" in bar


def test_a_lender_sees_no_menu_for_roles_they_do_not_hold(make_user, signed_in):
    lena = make_user(roles=["lender"], kyc="verified")
    bar = top_bar(signed_in(lena).get("/dashboard").get_data(as_text=True))
    menus = re.findall(r'data-menu="([a-z]+)"', bar)
    assert "audit" not in menus and "admin" not in menus and "borrow" not in menus


def test_visitors_find_campaigns_and_statistics(client):
    bar = top_bar(client.get("/").get_data(as_text=True))
    assert 'href="/campaigns"' in bar and 'href="/statistics"' in bar and "Sign in" in bar
