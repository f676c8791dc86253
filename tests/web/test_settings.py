"""A person's settings pages: overview and KYC review request, API tokens, language, roles;
each for anonymous callers, the owner, and another member."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from p2pbank.identity.models import ApiToken, KycChange, RoleGrant

PAGES = ["/settings", "/settings/tokens", "/settings/language", "/settings/roles"]
POSTS = [
    "/settings/kyc-review",
    "/settings/tokens",
    "/settings/tokens/1/revoke",
    "/settings/language",
    "/settings/roles",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_need_a_signed_in_person(web, path):
    response = web.get(path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")


@pytest.mark.parametrize("path", POSTS)
def test_posts_need_a_signed_in_person(web, session, path):
    before = session.scalar(select(ApiToken.id).limit(1))
    response = web.submit("/login", {"name": "x", "scope": "read", "role": "lender"}, action=path)
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login?next=")
    assert session.scalar(select(ApiToken.id).limit(1)) == before


@pytest.mark.parametrize("path", PAGES)
def test_every_page_shows_only_the_owners_account(signed_in, make_user, path):
    owner = make_user(email="owner-private@example.test", name="Owner Person")
    other = make_user(email="other@example.test", name="Other Person")
    page = signed_in(other).get(path)
    assert page.status_code == 200
    assert "owner-private@example.test" not in page.get_data(as_text=True)
    assert signed_in(owner).get(path).status_code == 200


def test_the_nav_has_settings_for_everyone_and_admin_only_for_admins(signed_in, make_user):
    member_page = signed_in(make_user(roles=["lender"])).get("/dashboard").get_data(as_text=True)
    assert 'href="/settings"' in member_page
    assert 'href="/admin/people"' not in member_page
    admin_page = signed_in(make_user(roles=["admin"])).get("/dashboard").get_data(as_text=True)
    assert 'href="/settings"' in admin_page and 'href="/admin/people"' in admin_page


def test_overview_and_asking_for_a_kyc_review(signed_in, make_user, session):
    user = make_user(email="ann@example.test")
    browser = signed_in(user)
    page = browser.get("/settings").get_data(as_text=True)
    assert "ann@example.test" in page and "Ask for a review" in page
    response = browser.submit("/settings", {}, action="/settings/kyc-review")
    assert response.status_code == 302
    session.refresh(user)
    assert user.kyc_status == "pending"
    page = browser.get("/settings").get_data(as_text=True)
    assert "Ask for a review" not in page and "review requested by the person" in page
    again = browser.submit("/settings", {}, action="/settings/kyc-review")
    assert again.status_code == 409
    changes = session.scalars(select(KycChange).where(KycChange.user_id == user.id)).all()
    assert len(changes) == 1


def test_a_verified_person_cannot_ask_again(signed_in, make_user, session):
    browser = signed_in(make_user(kyc="verified"))
    assert "Ask for a review" not in browser.get("/settings").get_data(as_text=True)
    assert browser.submit("/settings", {}, action="/settings/kyc-review").status_code == 409


# --- API tokens -----------------------------------------------------------------------------


def test_create_use_and_revoke_a_token(app, signed_in, make_user, session):
    user = make_user()
    browser = signed_in(user)
    created = browser.submit("/settings/tokens", {"name": "my laptop", "scope": "read"})
    assert created.status_code == 201
    assert created.headers["Cache-Control"] == "no-store"
    html = created.get_data(as_text=True)
    secret = re.search(r'<code id="new-token">([^<]+)</code>', html).group(1)
    assert secret.startswith("p2pb_")
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == user.id))
    assert row.scope == "read" and row.token_hash != secret and secret not in row.token_hash

    listing = browser.get("/settings/tokens").get_data(as_text=True)
    assert secret not in listing  # shown once only
    assert f"{row.prefix}…" in listing and "my laptop" in listing and "never" in listing

    api = app.test_client()
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 200
    listing = browser.get("/settings/tokens").get_data(as_text=True)
    assert "never" not in listing  # last use is shown

    revoked = browser.submit("/settings/tokens", {}, action=f"/settings/tokens/{row.id}/revoke")
    assert revoked.status_code == 302
    assert api.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    assert "revoked" in browser.get("/settings/tokens").get_data(as_text=True)


def test_a_write_token_can_be_made(signed_in, make_user, session):
    user = make_user()
    signed_in(user).submit("/settings/tokens", {"name": "bot", "scope": "write"})
    assert session.scalar(select(ApiToken.scope).where(ApiToken.user_id == user.id)) == "write"


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": "", "scope": "read"}, "name"),
        ({"name": "x" * 81, "scope": "read"}, "name"),
        ({"name": "ok", "scope": "admin"}, "scope"),
        ({"name": "ok"}, "scope"),
    ],
)
def test_bad_token_forms_are_refused(signed_in, make_user, session, data, field):
    user = make_user()
    response = signed_in(user).submit("/settings/tokens", data)
    assert response.status_code == 422
    assert session.scalar(select(ApiToken.id).where(ApiToken.user_id == user.id)) is None


def test_another_persons_token_cannot_be_revoked(signed_in, make_user, session):
    owner, other = make_user(), make_user()
    signed_in(owner).submit("/settings/tokens", {"name": "owner-secret-laptop", "scope": "read"})
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id))
    browser = signed_in(other)
    response = browser.submit("/settings", {}, action=f"/settings/tokens/{row.id}/revoke")
    assert response.status_code == 404
    session.refresh(row)
    assert row.revoked_at is None
    assert "owner-secret-laptop" not in browser.get("/settings/tokens").get_data(as_text=True)


def test_an_admin_cannot_revoke_someone_elses_token_from_their_settings(
    signed_in, make_user, session
):
    owner, admin = make_user(), make_user(roles=["admin"])
    signed_in(owner).submit("/settings/tokens", {"name": "laptop", "scope": "read"})
    row = session.scalar(select(ApiToken).where(ApiToken.user_id == owner.id))
    response = signed_in(admin).submit("/settings", {}, action=f"/settings/tokens/{row.id}/revoke")
    assert response.status_code == 404
    session.refresh(row)
    assert row.revoked_at is None


# --- language -------------------------------------------------------------------------------


def test_choosing_a_language(signed_in, make_user, session):
    user = make_user()
    browser = signed_in(user)
    assert '<html lang="en">' in browser.get("/settings/language").get_data(as_text=True)
    response = browser.submit("/settings/language", {"locale": "nl"})
    assert response.status_code == 302
    session.refresh(user)
    assert user.locale == "nl"
    assert '<html lang="nl">' in browser.get("/dashboard").get_data(as_text=True)
    browser.submit("/settings/language", {"locale": ""})
    session.refresh(user)
    assert user.locale is None


def test_the_browser_language_applies_until_one_is_chosen(signed_in, make_user):
    browser = signed_in(make_user())
    page = browser.get("/dashboard", headers={"Accept-Language": "nl-NL,nl;q=0.9"})
    assert '<html lang="nl">' in page.get_data(as_text=True)


@pytest.mark.parametrize("locale", ["fr", "EN", "en-US", "x" * 100])
def test_unknown_languages_are_refused(signed_in, make_user, session, locale):
    user = make_user()
    response = signed_in(user).submit("/settings/language", {"locale": locale})
    assert response.status_code == 422
    session.refresh(user)
    assert user.locale is None


# --- roles ----------------------------------------------------------------------------------


def test_taking_a_self_service_role(signed_in, make_user, session):
    user = make_user(roles=["lender"])
    browser = signed_in(user)
    page = browser.get("/settings/roles").get_data(as_text=True)
    assert 'value="borrower"' in page and 'value="lender"' not in page
    assert 'value="admin"' not in page and 'value="auditor"' not in page
    response = browser.submit("/settings/roles", {"role": "borrower"})
    assert response.status_code == 302
    session.refresh(user)
    assert user.role_names == {"lender", "borrower"}
    grant = session.scalar(
        select(RoleGrant).where(RoleGrant.user_id == user.id, RoleGrant.role == "borrower")
    )
    assert grant.granted_by_id == user.id and grant.reason == "self-service"


@pytest.mark.parametrize("role", ["admin", "auditor", "root", ""])
def test_privileged_or_unknown_roles_cannot_be_taken(signed_in, make_user, session, role):
    user = make_user()
    response = signed_in(user).submit("/settings/roles", {"role": role})
    assert response.status_code == 422
    session.refresh(user)
    assert user.role_names == frozenset()
