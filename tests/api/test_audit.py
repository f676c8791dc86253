"""The public auditor API: checkpoint, entries, proofs and key, without any token."""

from __future__ import annotations

import base64

import pytest

from p2pbank.audit import merkle, note, services
from p2pbank.audit.keys import signer_for

PROBLEM = "application/problem+json"


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


@pytest.fixture
def signed_log(app, session):
    for i in range(11):
        services.append(session, type="test.event", subject_user_id=i % 4, payload={"i": i})
    signer = signer_for(app.config)
    return services.sign_checkpoint(session, signer, signer.name)


def test_the_key_is_public_and_verifies_the_checkpoint(client, signed_log):
    key = client.get("/api/v1/audit/key")
    assert key.status_code == 200
    body = key.get_json()
    verifier = note.parse_vkey(body["vkey"])
    assert body["algorithm"] == "ed25519" and body["key_id"] == verifier.key_id.hex()
    checkpoint = client.get("/api/v1/audit/checkpoint").get_json()
    opened = note.open_checkpoint(checkpoint["note"], verifier, checkpoint["origin"])
    assert opened.size == checkpoint["tree_size"] == 11
    assert opened.root_hash == unb64(checkpoint["root_hash"])


def test_no_checkpoint_yet_is_a_problem_404(client):
    response = client.get("/api/v1/audit/checkpoint")
    assert response.status_code == 404 and response.mimetype == PROBLEM
    assert response.get_json()["detail"] == "No checkpoint has been signed yet."


def test_entries_recompute_to_the_signed_root(client, signed_log):
    body = client.get("/api/v1/audit/entries?start=0&end=100").get_json()
    assert (body["start"], body["end"], body["tree_size"]) == (0, 11, 11)
    leaves = []
    for position, entry in enumerate(body["entries"]):
        data = unb64(entry["data"])
        assert entry["index"] == position
        assert unb64(entry["leaf_hash"]) == merkle.leaf_hash(data)
        leaves.append(merkle.leaf_hash(data))
        assert entry["type"] == "test.event" and len(entry["subject"]) == 32
    assert merkle.root_from_leaf_hashes(leaves) == signed_log.root_hash


def test_an_empty_range_is_an_empty_page(client, signed_log):
    body = client.get("/api/v1/audit/entries?start=11&end=20").get_json()
    assert body["entries"] == [] and body["end"] == 11


def test_inclusion_and_consistency_proofs_verify(client, signed_log):
    root = signed_log.root_hash
    for index in range(11):
        body = client.get(f"/api/v1/audit/proof/inclusion?index={index}&size=11").get_json()
        path = [unb64(p) for p in body["proof"]]
        assert merkle.verify_inclusion(unb64(body["leaf_hash"]), index, 11, path, root)
    for old in range(12):
        body = client.get(f"/api/v1/audit/proof/consistency?old={old}&new=11").get_json()
        path = [unb64(p) for p in body["proof"]]
        assert merkle.verify_consistency(old, 11, unb64(body["old_root"]), root, path)


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/v1/audit/entries?start=5&end=2", "end"),
        ("/api/v1/audit/entries?start=-1&end=2", "start"),
        ("/api/v1/audit/entries?end=2", "start"),
        ("/api/v1/audit/proof/inclusion?index=11&size=11", "index"),
        ("/api/v1/audit/proof/inclusion?index=0&size=12", "size"),
        ("/api/v1/audit/proof/inclusion?index=x&size=3", "index"),
        ("/api/v1/audit/proof/consistency?old=5&new=12", "new"),
        ("/api/v1/audit/proof/consistency?old=6&new=5", "old"),
    ],
)
def test_bad_questions_are_problem_422(client, signed_log, url, field):
    response = client.get(url)
    assert response.status_code == 422 and response.mimetype == PROBLEM
    assert field in response.get_json()["errors"]


def test_the_api_is_read_only(client, signed_log):
    for path in ("/api/v1/audit/entries?start=0&end=1", "/api/v1/audit/checkpoint"):
        assert client.post(path).status_code == 405
        assert client.delete(path).status_code == 405


def test_a_token_is_neither_needed_nor_harmful(client, signed_log, make_user, api_token):
    headers = api_token(make_user(roles=["lender"]), "read")
    assert client.get("/api/v1/audit/key", headers=headers).status_code == 200


def test_openapi_documents_the_audit_routes_as_public(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = {p: v for p, v in spec["paths"].items() if p.startswith("/api/v1/audit/")}
    assert set(paths) == {
        "/api/v1/audit/checkpoint",
        "/api/v1/audit/entries",
        "/api/v1/audit/proof/inclusion",
        "/api/v1/audit/proof/consistency",
        "/api/v1/audit/key",
    }
    for operations in paths.values():
        assert operations["get"]["security"] == []
    (tag,) = [t for t in spec["tags"] if t["name"] == "audit_api"]
    assert "PUBLIC" in tag["description"] and "pseudonym" in tag["description"]


def test_each_signed_entry_carries_the_logs_signature_of_its_leaf(client, signed_log, session):
    from p2pbank.audit.leaf_signatures import leaf_verdict

    services.append(session, type="test.event", subject_user_id=None, payload={"i": 11})
    verifier = note.parse_vkey(client.get("/api/v1/audit/key").get_json()["vkey"])
    body = client.get("/api/v1/audit/entries?start=0&end=100").get_json()
    for entry in body["entries"][:11]:
        signature = unb64(entry["signature"])
        digest = merkle.leaf_hash(unb64(entry["data"]))
        assert leaf_verdict(verifier, signed_log.origin, entry["index"], digest, signature)
    assert body["entries"][11]["signature"] is None  # past the checkpoint: not yet signed
