"""Admin API: GET/POST /api/v1/admin/users/<id>/roles and /kyc, admins only."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from p2pbank.identity.models import KycChange, RoleGrant

PROBLEM = "application/problem+json"


def _writes(session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count(RoleGrant.id))),
        session.scalar(select(func.count(KycChange.id))),
    )


@pytest.fixture
def people(make_user):
    return {
        "admin": make_user(roles=["admin"], name="Alex Admin"),
        "ann": make_user(roles=["lender"]),
        "ada": make_user(roles=["auditor"]),
    }


def _calls(user_id: int):
    return [
        ("GET", f"/api/v1/admin/users/{user_id}/roles", None),
        (
            "POST",
            f"/api/v1/admin/users/{user_id}/roles",
            {"role": "borrower", "action": "grant", "reason": "r"},
        ),
        ("GET", f"/api/v1/admin/users/{user_id}/kyc", None),
        ("POST", f"/api/v1/admin/users/{user_id}/kyc", {"status": "pending", "reason": "r"}),
    ]


def test_anonymous_gets_401(client, people, session):
    before = _writes(session)
    for method, path, body in _calls(people["ann"].id):
        response = client.open(path, method=method, json=body)
        assert response.status_code == 401, path
        assert response.mimetype == PROBLEM
    assert _writes(session) == before


@pytest.mark.parametrize("who", ["ann", "ada"])
def test_members_and_auditors_get_403_even_for_themselves(client, people, api_token, session, who):
    headers = api_token(people[who], "write")
    before = _writes(session)
    for target in ("ann", who):
        for method, path, body in _calls(people[target].id):
            response = client.open(path, method=method, json=body, headers=headers)
            assert response.status_code == 403, path
            assert response.mimetype == PROBLEM
            assert "history" not in response.get_data(as_text=True)
    assert _writes(session) == before


def test_a_read_token_cannot_change_anything(client, people, api_token, session):
    headers = api_token(people["admin"], "read")
    before = _writes(session)
    for method, path, body in _calls(people["ann"].id):
        response = client.open(path, method=method, json=body, headers=headers)
        assert response.status_code == (200 if method == "GET" else 403), path
    assert _writes(session) == before


def test_admin_reads_and_changes_roles(client, people, api_token, session):
    ann = people["ann"]
    headers = api_token(people["admin"], "write")
    path = f"/api/v1/admin/users/{ann.id}/roles"
    got = client.get(path, headers=headers)
    assert got.status_code == 200
    assert got.json["user_id"] == ann.id and got.json["roles"] == ["lender"]
    assert got.json["history"][0]["action"] == "grant"

    granted = client.post(
        path, json={"role": "auditor", "action": "grant", "reason": "books"}, headers=headers
    )
    assert granted.status_code == 200
    assert granted.json["roles"] == ["auditor", "lender"]
    latest = granted.json["history"][0]
    assert latest["role"] == "auditor" and latest["reason"] == "books"
    assert latest["by_id"] == people["admin"].id

    revoked = client.post(
        path, json={"role": "auditor", "action": "revoke", "reason": "done"}, headers=headers
    )
    assert revoked.json["roles"] == ["lender"]
    assert [h["action"] for h in revoked.json["history"][:2]] == ["revoke", "grant"]


def test_admin_decides_kyc(client, people, api_token, session):
    ann = people["ann"]
    headers = api_token(people["admin"], "write")
    path = f"/api/v1/admin/users/{ann.id}/kyc"
    assert client.get(path, headers=headers).json == {
        "user_id": ann.id,
        "status": "unverified",
        "history": [],
    }
    early = client.post(path, json={"status": "verified", "reason": "ok"}, headers=headers)
    assert early.status_code == 409 and early.mimetype == PROBLEM
    assert "cannot go from unverified to verified" in early.json["detail"]
    for status in ["pending", "verified"]:
        response = client.post(
            path, json={"status": status, "reason": f"to {status}"}, headers=headers
        )
        assert response.status_code == 200
    body = client.get(path, headers=headers).json
    assert body["status"] == "verified"
    assert [(h["from_status"], h["to_status"], h["reason"]) for h in body["history"]] == [
        ("pending", "verified", "to verified"),
        ("unverified", "pending", "to pending"),
    ]


@pytest.mark.parametrize(
    ("suffix", "body", "field"),
    [
        ("roles", {"role": "auditor", "action": "grant", "reason": " "}, "reason"),
        ("roles", {"role": "auditor", "action": "grant"}, "reason"),
        ("roles", {"role": "wizard", "action": "grant", "reason": "r"}, "role"),
        ("roles", {"role": "lender", "action": "grant", "reason": "r", "extra": 1}, "extra"),
        ("roles", {"role": 5, "action": "grant", "reason": "r"}, "role"),
        ("kyc", {"status": "approved", "reason": "r"}, "status"),
        ("kyc", {"status": "pending", "reason": "r" * 501}, "reason"),
    ],
)
def test_bad_bodies_get_422_with_field_errors(
    client, people, api_token, session, suffix, body, field
):
    headers = api_token(people["admin"], "write")
    before = _writes(session)
    response = client.post(
        f"/api/v1/admin/users/{people['ann'].id}/{suffix}", json=body, headers=headers
    )
    assert response.status_code == 422
    assert response.mimetype == PROBLEM
    assert field in response.json["errors"]
    assert _writes(session) == before


def test_unknown_person_is_404_for_admins(client, people, api_token):
    headers = api_token(people["admin"], "write")
    assert client.get("/api/v1/admin/users/999999/roles", headers=headers).status_code == 404
    response = client.post(
        "/api/v1/admin/users/999999/kyc", json={"status": "pending", "reason": "r"}, headers=headers
    )
    assert response.status_code == 404


def test_an_admin_without_two_factor_is_refused_with_the_reason(client, make_user, api_token):
    admin = make_user(roles=["admin"], two_factor=False)
    ann = make_user()
    response = client.get(f"/api/v1/admin/users/{ann.id}/roles", headers=api_token(admin))
    assert response.status_code == 403
    assert response.mimetype == PROBLEM
    assert "two-factor" in response.json["detail"]


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/admin/users/{user_id}/roles"])
    assert {"get", "post"} <= set(paths["/api/v1/admin/users/{user_id}/kyc"])
