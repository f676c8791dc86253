"""The auditor pages: explorer, entry, checkpoint history and the proof checked step by step."""

from __future__ import annotations

import re

import pytest

from p2pbank.audit import merkle, services
from p2pbank.audit.keys import signer_for
from tests.support.audit import tamper


@pytest.fixture
def auditor(make_user):
    return make_user(roles=["auditor"], kyc="verified", name="Ada Auditor")


@pytest.fixture
def log(app, session, make_user):
    """A small log: members' role and KYC events, a few platform events, a checkpoint."""
    members = [make_user(roles=["lender"], kyc="verified") for _ in range(2)]
    for i in range(5):
        services.append(session, type="test.platform", subject_user_id=None, payload={"i": i})
    signer = signer_for(app.config)
    checkpoint = services.sign_checkpoint(session, signer, signer.name)
    return members, checkpoint


def page(response) -> str:
    return response.get_data(as_text=True)


def test_anonymous_people_are_sent_to_sign_in(client):
    for path in ("/audit/", "/audit/checkpoints", "/audit/proof", "/audit/entries/0"):
        response = client.get(path)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.mark.parametrize("roles", [["lender", "borrower"], ["admin"]])
def test_members_and_admins_without_the_auditor_role_are_refused(make_user, signed_in, log, roles):
    browser = signed_in(make_user(roles=roles, kyc="verified"))
    for path in ("/audit/", "/audit/checkpoints", "/audit/proof", "/audit/entries/0"):
        assert browser.get(path).status_code == 403
    assert "Audit log" not in page(browser.get("/dashboard"))


def test_the_explorer_lists_entries_newest_first_with_pseudonyms(session, signed_in, auditor, log):
    members, checkpoint = log
    browser = signed_in(auditor)
    html = page(browser.get("/dashboard"))
    assert 'href="/audit/"' in html and "Audit log" in html
    response = browser.get("/audit/")
    html = page(response)
    assert response.status_code == 200
    assert f"The latest signed checkpoint covers {checkpoint.tree_size} entries" in html
    sequences = [int(n) for n in re.findall(r'href="/audit/entries/(\d+)"', html)]
    assert sequences == sorted(sequences, reverse=True) and sequences[0] == checkpoint.tree_size - 1
    pseudonym = services.pseudonym(session, members[0].id)
    assert pseudonym in html
    assert members[0].email not in html and members[0].display_name not in html


def test_the_explorer_searches_by_type_and_by_pseudonym(session, signed_in, auditor, log):
    members, _ = log
    browser = signed_in(auditor)
    html = page(browser.get("/audit/?type=kyc.verified"))
    assert (
        "kyc.verified" in html
        and "test.platform</a>" not in html
        and "role.granted</a>" not in html
    )
    pseudonym = services.pseudonym(session, members[1].id)
    html = page(browser.get(f"/audit/?subject={pseudonym}"))
    rows = re.findall(r'href="/audit/\?subject=([0-9a-f]{32})"', html)
    assert rows and set(rows) == {pseudonym}


def test_the_explorer_pages_by_position(session, signed_in, auditor):
    for i in range(60):
        services.append(session, type="test.many", subject_user_id=None, payload={"i": i})
    browser = signed_in(auditor)
    html = page(browser.get("/audit/?type=test.many"))
    older = re.search(r'href="/audit/\?before=(\d+)&amp;type=test.many"', html)
    assert older, "no link to older entries"
    second = page(browser.get(f"/audit/?before={older.group(1)}&type=test.many"))
    first_page = set(re.findall(r'href="/audit/entries/(\d+)"', html))
    second_page = set(re.findall(r'href="/audit/entries/(\d+)"', second))
    assert first_page and second_page and not first_page & second_page
    assert "Newer" in second


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("subject=not-a-pseudonym", "A pseudonym is 32 hexadecimal digits."),
        ("type=Not%20A%20Type", "An event type looks like kyc.verified."),
        ("before=-3", "page position is not valid"),
    ],
)
def test_bad_searches_are_explained(signed_in, auditor, log, query, message):
    response = signed_in(auditor).get(f"/audit/?{query}")
    assert response.status_code == 422
    assert message in page(response)


def test_an_entry_shows_its_canonical_json_and_leaf_hash(session, signed_in, auditor, log):
    browser = signed_in(auditor)
    leaf = services.append(session, type="test.shown", subject_user_id=None, payload={"k": 42})
    html = page(browser.get(f"/audit/entries/{leaf.sequence}"))
    assert "test.shown" in html and "&#34;k&#34;: 42" in html
    assert bytes(leaf.leaf_hash).hex() in html
    assert f'href="/audit/proof?index={leaf.sequence}"' in html
    assert browser.get("/audit/entries/99999").status_code == 404


def test_checkpoint_history_shows_the_signed_notes(app, session, signed_in, auditor, log):
    _, first = log
    services.append(session, type="test.more", subject_user_id=None, payload={})
    signer = signer_for(app.config)
    second = services.sign_checkpoint(session, signer, signer.name)
    html = page(signed_in(auditor).get("/audit/checkpoints"))
    assert html.index(f"{second.tree_size} entries") < html.index(f"{first.tree_size} entries")
    assert second.note.split("\n")[2] in html  # the base64 root line
    assert "— " + signer.name in html


def test_the_proof_page_checks_an_entry_step_by_step(signed_in, auditor, log):
    _, checkpoint = log
    browser = signed_in(auditor)
    form = page(browser.get("/audit/proof?index=3"))
    assert 'value="3"' in form and f'value="{checkpoint.tree_size}"' in form
    response = browser.submit("/audit/proof", {"index": "3", "size": str(checkpoint.tree_size)})
    html = page(response)
    assert response.status_code == 200
    assert "The proof verifies: entry 3 is in this tree." in html
    assert "Signed root of the checkpoint" in html
    assert checkpoint.root_hash.hex() in html
    path = merkle.inclusion_proof([bytes(32)] * checkpoint.tree_size, 3, checkpoint.tree_size)
    assert html.count("Proof hash") == len(path) > 0


def test_the_proof_page_shows_a_tampered_entry_failing(session, signed_in, auditor, log):
    _, checkpoint = log
    tamper(session, "UPDATE audit_leaves SET data = :d WHERE sequence = 3", d=b"{}")
    html = page(
        signed_in(auditor).submit("/audit/proof", {"index": "3", "size": str(checkpoint.tree_size)})
    )
    assert "differs from the stored leaf hash" in html
    assert "The proof does NOT verify" in html


def test_the_proof_page_says_when_no_checkpoint_has_that_size(session, signed_in, auditor, log):
    _, checkpoint = log
    services.append(session, type="test.more", subject_user_id=None, payload={})
    html = page(
        signed_in(auditor).submit(
            "/audit/proof", {"index": "0", "size": str(checkpoint.tree_size + 1)}
        )
    )
    assert "no checkpoint of this size was signed" in html
    assert "The proof verifies" in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"index": "5", "size": "5"}, "The index must be below the tree size."),
        ({"index": "x", "size": "5"}, "Not a valid integer."),
        ({"index": "0", "size": "100000"}, "The log has"),
    ],
)
def test_the_proof_page_refuses_impossible_questions(signed_in, auditor, log, data, message):
    response = signed_in(auditor).submit("/audit/proof", data)
    assert response.status_code == 422
    assert message in page(response)


def test_the_proof_form_needs_its_csrf_token(signed_in, auditor, log):
    response = signed_in(auditor).client.post("/audit/proof", data={"index": "0", "size": "1"})
    assert response.status_code == 400


def test_a_damaged_entry_is_shown_as_stored(session, signed_in, auditor, log):
    tamper(session, "UPDATE audit_leaves SET data = :d WHERE sequence = 2", d=b"not json at all")
    response = signed_in(auditor).get("/audit/entries/2")
    assert response.status_code == 200 and "not json at all" in page(response)


def test_the_pages_warn_when_a_queued_leaf_waits_past_the_merge_delay(
    session, signed_in, auditor, log
):
    # Issue 14: a leaf queued two minutes ago and still not in the tree breaks the 60 s delay.
    from datetime import timedelta

    from p2pbank import clock
    from p2pbank.audit import queue, sequencer

    browser = signed_in(auditor)
    assert "maximum merge delay" not in page(browser.get("/audit/"))
    with clock.frozen_at(clock.now() - timedelta(minutes=2)):
        queue.enqueue(session, type="test.queued", subject_user_id=None, payload={})
    session.commit()
    html = page(browser.get("/audit/checkpoints"))
    assert "longer than its maximum merge delay of 60 s" in html
    sequencer.integrate_queued(session, clock.now())
    assert "maximum merge delay" not in page(browser.get("/audit/"))
