"""The verifier's logic (p2pbank.audit.verify) against an in-memory log.

`ListLog` plays the server: it keeps entries and answers proofs with the pure RFC 9162
functions of p2pbank.audit.merkle over the hashes it *stores*, so a test can corrupt the
data it serves, a stored leaf hash, or one stored subtree, as a damaged database would.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import rfc8785

from p2pbank.audit import merkle, note
from p2pbank.audit.note import Checkpoint
from p2pbank.audit.verify import (
    SourceError,
    first_bad,
    first_divergence,
    parse_entry,
    spread,
    verify_log,
)
from tests.support.audit import LIST_ORIGIN as ORIGIN
from tests.support.audit import LIST_SIGNER as SIGNER
from tests.support.audit import ListLog, leaf


def test_an_honest_log_verifies():
    log = ListLog(23)
    log.sign()
    report = verify_log(log, SIGNER.verifier)
    assert report.ok, report.summary()
    assert report.entries_checked == 23
    assert report.proofs_checked == 23  # a small log: every inclusion proof is checked
    assert report.summary()[-1] == "RESULT: OK"


def test_the_empty_log_verifies():
    log = ListLog(0)
    log.sign()
    assert verify_log(log, SIGNER.verifier).ok


@pytest.mark.parametrize("bad", [0, 1, 7, 16, 22])
def test_changed_entry_data_is_named_by_its_index(bad):
    log = ListLog(23)
    log.sign()
    log.data[bad] = leaf(bad, payload_changed=1)
    report = verify_log(log, SIGNER.verifier)
    assert not report.ok
    assert report.first_bad_index == bad
    assert report.summary()[-1] == f"RESULT: FAILED - first bad index {bad}"


@pytest.mark.parametrize("bad", [0, 5, 22])
def test_a_rewritten_stored_tree_fails_and_proving_stops_no_later_than_the_rewrite(bad):
    # Data, stored leaf hash and every node above rewritten to match: only the signed root
    # tells, and no proof from the rewritten tree reaches it past the rewrite.
    log = ListLog(23)
    log.sign()
    log.data[bad] = leaf(bad, changed=True)
    log.stored[bad] = merkle.leaf_hash(log.data[bad])
    report = verify_log(log, SIGNER.verifier)
    assert not report.ok
    first, last = first_bad(report.problems)  # a range that holds the rewritten entry
    assert first <= bad <= last


@pytest.mark.parametrize("bad", [0, 5, 9])
def test_leaf_hashes_saved_last_time_name_a_rewritten_entry_exactly(bad):
    log = ListLog(10)
    before = log.sign()
    saved = verify_log(log, SIGNER.verifier).leaf_hashes
    log.data[bad] = leaf(bad, changed=True)
    log.stored[bad] = merkle.leaf_hash(log.data[bad])
    log.append(13)
    log.sign()  # the rewritten log, signed again with the real key
    report = verify_log(log, SIGNER.verifier, previous=before, previous_leaves=saved)
    assert report.first_bad_index == bad
    assert "changed since the checkpoint of 10" in str(report.problems[0])


def test_saved_leaf_hashes_that_do_not_match_the_saved_checkpoint_are_ignored():
    log = ListLog(6)
    before = log.sign()
    wrong = [merkle.leaf_hash(b"x")] * 6
    assert verify_log(log, SIGNER.verifier, previous=before, previous_leaves=wrong).ok


def test_first_divergence_for_every_position():
    for size in (2, 3, 8, 13):
        for bad in range(size):
            log = ListLog(size)
            checkpoint = log.sign()
            local = list(log.stored)
            local[bad] = merkle.leaf_hash(b"other")
            assert first_divergence(log, local, size, checkpoint.root_hash) == bad


def test_a_wrong_stored_node_is_named_by_the_entries_it_covers():
    log = ListLog(23)
    log.sign()
    log.bad_range = (8, 16)
    report = verify_log(log, SIGNER.verifier)
    assert not report.ok
    assert report.first_bad_index == 8
    assert any("entries [8, 16) is wrong" in p.message for p in report.problems)


def test_an_entry_numbered_wrongly_or_not_canonical_is_refused():
    log = ListLog(5)
    log.data[3] = leaf(4)
    log.stored[3] = merkle.leaf_hash(log.data[3])
    log.sign()  # even a correctly signed log must number its entries in sequence
    report = verify_log(log, SIGNER.verifier)
    assert report.first_bad_index == 3
    assert "says it is entry 4" in str(report.problems[0])


@pytest.mark.parametrize(
    ("data", "wrong"),
    [
        (b"not json", "not UTF-8 JSON"),
        (b'{"payload": {}, "sequence": 0}', "canonical"),
        (rfc8785.dumps({"sequence": 0, "type": "a.b", "payload": {}}), "exactly"),
        (
            rfc8785.dumps(
                {"sequence": 0, "type": "a.b", "time": "yesterday", "subject": None, "payload": {}}
            ),
            "time",
        ),
        (
            rfc8785.dumps(
                {
                    "sequence": 0,
                    "type": "a.b",
                    "time": "2026-01-01T00:00:00",
                    "subject": None,
                    "payload": {},
                }
            ),
            "zone",
        ),
        (
            rfc8785.dumps(
                {
                    "sequence": 0,
                    "type": "a.b",
                    "time": "2026-01-01T00:00:00Z",
                    "subject": 5,
                    "payload": {},
                }
            ),
            "subject",
        ),
    ],
)
def test_parse_entry_refuses_malformed_leaves(data, wrong):
    event, problem = parse_entry(0, data)
    assert event is None and wrong in problem


def test_parse_entry_reads_a_good_leaf():
    event, problem = parse_entry(3, leaf(3, "kyc.verified", subject="cd" * 16))
    assert problem is None
    assert (event.index, event.type, event.subject) == (3, "kyc.verified", "cd" * 16)
    assert event.time == datetime(2026, 11, 2, 9, 0, 3, tzinfo=UTC)


def test_a_forged_checkpoint_is_refused():
    log = ListLog(4)
    log.sign()
    impostor = note.generate_signer(ORIGIN)
    report = verify_log(log, impostor.verifier)
    assert not report.ok and report.checkpoint is None
    assert "checkpoint" in report.problems[0].message


def test_an_unreadable_log_is_reported_as_such():
    report = verify_log(ListLog(3), SIGNER.verifier)  # nothing signed yet
    assert report.unreadable and not report.ok


def test_growth_since_the_previous_checkpoint_is_proven():
    log = ListLog(10)
    before = log.sign()
    log.append(15)
    log.sign()
    report = verify_log(log, SIGNER.verifier, previous=before)
    assert report.ok, report.summary()
    assert any("consistency with the checkpoint of 10" in line for line in report.lines)


def test_a_rewritten_history_is_caught_against_the_previous_checkpoint():
    log = ListLog(10)
    before = log.sign()
    log.data[4] = leaf(4, rewritten=True)
    log.stored[4] = merkle.leaf_hash(log.data[4])
    log.append(5)
    log.sign()  # the operator re-signed the rewritten log with the real key
    report = verify_log(log, SIGNER.verifier, previous=before)
    assert not report.ok
    assert report.first_bad_index is not None and report.first_bad_index <= 4
    assert any("changed since the checkpoint of 10" in p.message for p in report.problems)


def test_a_shrunk_log_and_a_changed_origin_are_refused():
    log = ListLog(10)
    bigger = Checkpoint(ORIGIN, 12, bytes(32))
    log.sign()
    assert any(
        "shrank" in p.message for p in verify_log(log, SIGNER.verifier, previous=bigger).problems
    )
    elsewhere = Checkpoint("other.example/log", 3, bytes(32))
    report = verify_log(log, SIGNER.verifier, previous=elsewhere)
    assert any("origin changed" in p.message for p in report.problems)


def test_missing_entries_are_reported():
    log = ListLog(10)
    log.sign()
    del log.data[6:]
    report = verify_log(log, SIGNER.verifier)
    assert report.first_bad_index == 6
    assert "serves only 6 of the 10" in report.problems[0].message


@pytest.mark.parametrize(
    ("size", "count", "expected"),
    [(0, 5, []), (3, 5, [0, 1, 2]), (10, 1, [9]), (10, 4, [0, 3, 6, 9]), (5, 0, [])],
)
def test_spread_picks_evenly_and_includes_the_ends(size, count, expected):
    assert spread(size, count) == expected


def test_the_verifier_loads_no_database_or_web_framework():
    import subprocess
    import sys

    probe = (
        "import sys, p2pbank.audit.verify, p2pbank.audit.verify_journal, p2pbank.audit.tail; "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('sqlalchemy', 'flask', 'psycopg', 'werkzeug') or m == 'p2pbank.db'))"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("value", ["\u0661", "1", True, 1.0, -1, None])
def test_counts_in_server_answers_and_state_files_are_json_integers(value):
    from p2pbank.audit.verify import json_count

    with pytest.raises(SourceError):
        json_count(value)
    assert json_count(3) == 3


def test_an_entry_numbered_with_a_non_ascii_digit_is_refused(tmp_path):
    import base64
    import json

    from p2pbank.audit.verify import HttpSource, load_state

    body = {"entries": [{"index": "\u0661", "data": "", "leaf_hash": ""}]}
    source = HttpSource("http://log.example", fetch=lambda url, timeout: json.dumps(body).encode())
    with pytest.raises(SourceError, match="non-negative integer"):
        source.entries(0, 1)
    state = tmp_path / "state.json"
    root64 = base64.b64encode(bytes(32)).decode()
    state.write_text(json.dumps({"origin": "o", "size": "\u0661", "root_hash": root64}))
    with pytest.raises(SourceError, match="damaged"):
        load_state(state)
