"""The identity API: bearer tokens, problem+json errors, the OpenAPI document."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from p2pbank.identity import tokens
from p2pbank.identity.models import ApiToken

PROBLEM_KEYS = {"type", "title", "status", "detail", "instance"}


def assert_problem(response, status: int) -> dict:
    """An RFC 9457 problem document with the status it claims."""
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body.keys() >= PROBLEM_KEYS
    assert body["status"] == status
    assert body["instance"] == response.request.path
    assert body["title"] and body["detail"]
    return body


def _token_rows(session) -> int:
    return session.scalar(select(func.count(ApiToken.id)))


# --- authentication ------------------------------------------------------------------------


def test_me_with_a_read_token(client, make_user, api_token):
    user = make_user(roles=["lender", "borrower"], email="lea@example.test", name="Lea")
    response = client.get("/api/v1/me", headers=api_token(user, "read"))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    assert response.json == {
        "id": user.id,
        "email": "lea@example.test",
        "display_name": "Lea",
        "roles": ["borrower", "lender"],
        "kyc_status": "unverified",
        "two_factor_enabled": False,
        "created_at": response.json["created_at"],
    }


def test_me_never_shows_secrets(client, make_user, api_token):
    user = make_user()
    body = client.get("/api/v1/me", headers=api_token(user)).get_data(as_text=True)
    assert "password" not in body and "argon2" not in body and "totp" not in body


def test_missing_token_is_401_problem(client):
    body = assert_problem(client.get("/api/v1/me"), 401)
    assert "Bearer" in body["detail"]


@pytest.mark.parametrize(
    "header",
    [
        "",
        "Bearer",
        "Bearer ",
        "Basic dXNlcjpwYXNz",
        "Token p2p_abcdef",
        "Bearer p2p_not-a-real-token",
        "Bearer p2p_not a real token",
        "bearer " + "x" * 5000,
    ],
)
def test_malformed_or_unknown_token_is_401(client, make_user, header):
    make_user()
    response = client.get("/api/v1/me", headers={"Authorization": header})
    assert_problem(response, 401)


def test_a_token_made_by_hand_from_a_stored_hash_does_not_work(client, make_user, session):
    """Only the SHA-256 is stored: knowing the row does not give access."""
    from p2pbank.identity import services

    user = make_user()
    row, secret = services.create_api_token(session, user.id, name="laptop", scope="write")
    assert row.token_hash == tokens.token_hash(secret)
    assert secret not in row.token_hash
    response = client.get("/api/v1/me", headers={"Authorization": f"Bearer {row.token_hash}"})
    assert_problem(response, 401)


def test_revoked_token_is_401(client, make_user, api_token):
    user = make_user()
    headers = api_token(user, "write")
    listed = client.get("/api/v1/tokens", headers=headers).json
    (mine,) = listed
    assert client.delete(f"/api/v1/tokens/{mine['id']}", headers=headers).status_code == 204
    body = assert_problem(client.get("/api/v1/me", headers=headers), 401)
    assert "revoked" in body["detail"]


def test_read_only_token_cannot_write(client, make_user, api_token, session):
    user = make_user()
    headers = api_token(user, "read")
    before = _token_rows(session)
    response = client.post("/api/v1/tokens", json={"name": "x", "scope": "write"}, headers=headers)
    body = assert_problem(response, 403)
    assert "read-only" in body["detail"]
    assert _token_rows(session) == before
    (mine,) = client.get("/api/v1/tokens", headers=headers).json
    assert_problem(client.delete(f"/api/v1/tokens/{mine['id']}", headers=headers), 403)
    assert client.get("/api/v1/me", headers=headers).status_code == 200  # still alive


def test_last_use_is_recorded(client, make_user, api_token, session, frozen_now):
    user = make_user()
    headers = api_token(user, "read")
    client.get("/api/v1/me", headers=headers)
    (row,) = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id))
    session.refresh(row)
    assert row.last_used_at == frozen_now


def test_api_ignores_the_browser_session(signed_in, make_user):
    """A signed-in browser is not an API client: the API needs a token."""
    browser = signed_in(make_user())
    assert_problem(browser.get("/api/v1/me"), 401)


# --- tokens --------------------------------------------------------------------------------


def test_create_token_shows_the_secret_once(client, make_user, api_token, session):
    user = make_user()
    headers = api_token(user, "write")
    created = client.post(
        "/api/v1/tokens", json={"name": "phone", "scope": "read"}, headers=headers
    )
    assert created.status_code == 201
    secret = created.json["token"]
    assert created.json["scope"] == "read" and created.json["name"] == "phone"
    assert secret.startswith(created.json["prefix"])
    listed = client.get("/api/v1/tokens", headers=headers)
    assert secret not in listed.get_data(as_text=True)
    assert {t["name"] for t in listed.json} == {"test", "phone"}
    stored = session.scalars(select(ApiToken.token_hash)).all()
    assert secret not in stored and tokens.token_hash(secret) in stored
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    assert me.json["id"] == user.id


def test_tokens_list_shows_only_my_tokens(client, make_user, api_token):
    me, other = make_user(), make_user()
    api_token(other, "write")
    listed = client.get("/api/v1/tokens", headers=api_token(me, "read")).json
    assert len(listed) == 1


def test_revoking_another_persons_token_is_404_and_changes_nothing(
    client, make_user, api_token, session
):
    me, other = make_user(), make_user()
    theirs = api_token(other, "write")
    (their_row,) = client.get("/api/v1/tokens", headers=theirs).json
    response = client.delete(f"/api/v1/tokens/{their_row['id']}", headers=api_token(me))
    assert_problem(response, 404)
    assert client.get("/api/v1/me", headers=theirs).status_code == 200


def test_revoking_an_unknown_token_is_404(client, make_user, api_token):
    assert_problem(client.delete("/api/v1/tokens/999999", headers=api_token(make_user())), 404)


def test_token_validation_errors_name_the_fields(client, make_user, api_token, session):
    headers = api_token(make_user())
    before = _token_rows(session)
    response = client.post("/api/v1/tokens", json={"scope": "admin"}, headers=headers)
    body = assert_problem(response, 422)
    assert set(body["errors"]) == {"name", "scope"}
    assert all(isinstance(v, list) and v for v in body["errors"].values())
    assert _token_rows(session) == before


# --- problem+json for routing errors --------------------------------------------------------


def test_unknown_api_path_is_404_problem(client, make_user, api_token):
    assert_problem(client.get("/api/v1/no-such-thing", headers=api_token(make_user())), 404)


def test_wrong_method_is_405_problem_with_allow(client, make_user, api_token):
    response = client.put("/api/v1/me", json={}, headers=api_token(make_user()))
    assert_problem(response, 405)
    assert "GET" in response.headers["Allow"]


def test_problem_carries_the_request_id(client):
    response = client.get("/api/v1/me", headers={"X-Request-Id": "abcdef0123456789"})
    body = assert_problem(response, 401)
    assert body["request_id"] == "abcdef0123456789" == response.headers["X-Request-Id"]


# --- OpenAPI -------------------------------------------------------------------------------


def test_openapi_document(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    doc = response.json
    assert doc["openapi"].startswith("3.")
    assert doc["info"]["title"] == "p2pbank API"
    assert {"/api/v1/me", "/api/v1/tokens", "/api/v1/tokens/{token_id}"} <= doc["paths"].keys()
    assert doc["components"]["securitySchemes"]["bearer"] == {"type": "http", "scheme": "bearer"}
    assert doc["security"] == [{"bearer": []}]
    token_in = doc["components"]["schemas"]["TokenIn"]
    assert token_in["properties"]["name"]["maxLength"] == 80
    assert set(token_in["required"]) == {"name", "scope"}
    assert token_in["additionalProperties"] is False  # unknown fields are refused


def test_openapi_documents_errors_as_problem_json(client):
    doc = client.get("/api/v1/openapi.json").json
    invalid = doc["components"]["responses"]["UNPROCESSABLE_ENTITY"]["content"]
    assert list(invalid) == ["application/problem+json"]
    assert invalid["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    problem = doc["components"]["schemas"]["Problem"]["properties"]
    assert PROBLEM_KEYS | {"errors", "request_id"} == problem.keys()


def test_openapi_needs_no_token_and_is_json(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
