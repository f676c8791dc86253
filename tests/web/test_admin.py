"""Admin pages: people search, a person's page, role and KYC decisions with reasons;
for anonymous callers, members, auditors and admins."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from p2pbank.identity.models import KycChange, RoleGrant


def _grants(session) -> int:
    return session.scalar(select(func.count(RoleGrant.id)))


def _kyc_changes(session) -> int:
    return session.scalar(select(func.count(KycChange.id)))


@pytest.fixture
def people(make_user):
    return {
        "admin": make_user(roles=["admin"], name="Alex Admin", email="alex@example.test"),
        "ann": make_user(roles=["lender"], name="Ann Lender", email="ann@example.test"),
        "bo": make_user(roles=["borrower"], name="Bo Borrower", email="bo@example.test"),
        "ada": make_user(roles=["auditor"], name="Ada Auditor", email="ada@example.test"),
    }


def _routes(target_id: int) -> list[tuple[str, str, dict]]:
    return [
        ("GET", "/admin/people", {}),
        ("GET", f"/admin/people/{target_id}", {}),
        (
            "POST",
            f"/admin/people/{target_id}/roles",
            {"role": "borrower", "action": "grant", "reason": "x"},
        ),
        ("POST", f"/admin/people/{target_id}/kyc", {"status": "pending", "reason": "x"}),
    ]


def test_anonymous_callers_are_sent_to_sign_in(web, people, session):
    before = (_grants(session), _kyc_changes(session))
    for method, path, data in _routes(people["ann"].id):
        response = web.get(path) if method == "GET" else web.submit("/login", data, action=path)
        assert response.status_code == 302, path
        assert response.headers["Location"].startswith("/login?next="), path
    assert (_grants(session), _kyc_changes(session)) == before


@pytest.mark.parametrize("who", ["ann", "bo", "ada"])
def test_members_and_auditors_are_forbidden(signed_in, people, session, who):
    browser = signed_in(people[who])
    before = (_grants(session), _kyc_changes(session))
    for method, path, data in _routes(people["ann"].id):
        if method == "GET":
            response = browser.get(path)
        else:
            response = browser.submit("/dashboard", data, action=path)
        assert response.status_code == 403, path
        assert "ann@example.test" not in response.get_data(as_text=True) or who == "ann"
    assert (_grants(session), _kyc_changes(session)) == before
    # ... even on their own person page
    assert browser.get(f"/admin/people/{people[who].id}").status_code == 403


def test_admin_searches_people(signed_in, people):
    browser = signed_in(people["admin"])
    page = browser.get("/admin/people").get_data(as_text=True)
    for person in people.values():
        assert person.email in page
    assert "4 people found" in page
    found = browser.get("/admin/people?q=BORROW").get_data(as_text=True)
    assert "bo@example.test" in found and "ann@example.test" not in found
    assert "1 person found" in found
    nothing = browser.get("/admin/people?q=%25").get_data(as_text=True)
    assert "0 people found" in nothing


def test_admin_people_list_pages(signed_in, make_user, people):
    for n in range(30):
        make_user(email=f"many{n:02d}@example.test")
    browser = signed_in(people["admin"])
    first = browser.get("/admin/people").get_data(as_text=True)
    assert "Page 1 of 2" in first and 'rel="next"' in first
    second = browser.get("/admin/people?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in second and 'rel="prev"' in second
    assert browser.get("/admin/people?page=nonsense").status_code == 200


def test_admin_grants_a_role_with_a_reason_and_sees_the_history(signed_in, people, session):
    ann = people["ann"]
    browser = signed_in(people["admin"])
    response = browser.submit(
        f"/admin/people/{ann.id}",
        {"role": "auditor", "action": "grant", "reason": "yearly books review"},
        action=f"/admin/people/{ann.id}/roles",
    )
    assert response.status_code == 302
    session.refresh(ann)
    assert ann.role_names == {"lender", "auditor"}
    page = browser.get(f"/admin/people/{ann.id}").get_data(as_text=True)
    assert "yearly books review" in page and "Alex Admin" in page
    assert ann.two_factor_missing  # the new auditor must enrol before anything else

    browser.submit(
        f"/admin/people/{ann.id}",
        {"role": "auditor", "action": "revoke", "reason": "review finished"},
        action=f"/admin/people/{ann.id}/roles",
    )
    session.refresh(ann)
    assert ann.role_names == {"lender"}
    assert "review finished" in browser.get(f"/admin/people/{ann.id}").get_data(as_text=True)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"role": "auditor", "action": "grant", "reason": "   "}, "Give a reason."),
        ({"role": "auditor", "action": "grant"}, "Missing data for required field."),
        ({"role": "wizard", "action": "grant", "reason": "x"}, "Must be one of"),
        ({"role": "lender", "action": "promote", "reason": "x"}, "Must be one of"),
        ({"role": "lender", "action": "grant", "reason": "x" * 501}, "Longer than maximum"),
    ],
)
def test_bad_role_forms_write_nothing(signed_in, people, session, data, message):
    ann = people["ann"]
    browser = signed_in(people["admin"])
    before = _grants(session)
    response = browser.submit(
        f"/admin/people/{ann.id}", data, action=f"/admin/people/{ann.id}/roles"
    )
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _grants(session) == before


def test_an_admin_cannot_revoke_their_own_admin_role(signed_in, people, session):
    admin = people["admin"]
    response = signed_in(admin).submit(
        f"/admin/people/{admin.id}",
        {"role": "admin", "action": "revoke", "reason": "stepping down"},
        action=f"/admin/people/{admin.id}/roles",
    )
    assert response.status_code == 403
    session.refresh(admin)
    assert admin.has_role("admin")


def test_admin_decides_kyc_with_a_reason(signed_in, people, session):
    bo = people["bo"]
    browser = signed_in(people["admin"])
    page = browser.get(f"/admin/people/{bo.id}").get_data(as_text=True)
    assert 'value="pending"' in page and 'value="verified"' not in page  # only valid moves
    early = browser.submit(
        f"/admin/people/{bo.id}",
        {"status": "verified", "reason": "looks fine"},
        action=f"/admin/people/{bo.id}/kyc",
    )
    assert early.status_code == 422
    assert "cannot go from unverified to verified" in early.get_data(as_text=True)
    for status, reason in [("pending", "documents received"), ("verified", "passport checked")]:
        response = browser.submit(
            f"/admin/people/{bo.id}",
            {"status": status, "reason": reason},
            action=f"/admin/people/{bo.id}/kyc",
        )
        assert response.status_code == 302
    session.refresh(bo)
    assert bo.kyc_status == "verified"
    page = browser.get(f"/admin/people/{bo.id}").get_data(as_text=True)
    assert "passport checked" in page and "documents received" in page
    missing_reason = browser.submit(
        f"/admin/people/{bo.id}",
        {"status": "rejected", "reason": ""},
        action=f"/admin/people/{bo.id}/kyc",
    )
    assert missing_reason.status_code == 422
    session.refresh(bo)
    assert bo.kyc_status == "verified"


def test_unknown_person_is_not_found_for_admins(signed_in, people):
    browser = signed_in(people["admin"])
    assert browser.get("/admin/people/999999").status_code == 404
    response = browser.submit(
        "/admin/people",
        {"role": "lender", "action": "grant", "reason": "x"},
        action="/admin/people/999999/roles",
    )
    assert response.status_code == 404


def test_names_are_escaped(signed_in, make_user, people):
    evil = make_user(name='<script>alert("x")</script>')
    browser = signed_in(people["admin"])
    for path in ["/admin/people", f"/admin/people/{evil.id}"]:
        html = browser.get(path).get_data(as_text=True)
        assert '<script>alert("x")</script>' not in html
        assert "&lt;script&gt;" in html
