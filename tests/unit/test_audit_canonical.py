"""The log's canonical JSON: the fast path writes exactly the bytes of RFC 8785 (the
rfc8785 package) for every float-free document, non-ASCII text and escapes included."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

from p2pbank.audit import queue
from p2pbank.audit.services import canonical_json

scalars = (
    st.none()
    | st.booleans()
    | st.integers(-(2**53) + 1, 2**53 - 1)
    | st.text()
    | st.sampled_from(['\x00\x1f\x7f\b\f\n\r\t"\\', "\u2028\ue000\U0001f600", "ä"])
)
keys = st.text() | st.sampled_from(["\ue000", "\U0001f600", "a", "B", "é", ""])
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars,
        lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=12,
    ),
    max_size=6,
)


@settings(max_examples=400)
@given(documents)
def test_canonical_json_is_rfc_8785(document):
    assert canonical_json(document) == rfc8785.dumps(document)


def test_keys_beyond_the_basic_plane_sort_as_utf16():
    # U+1F600 is D83D DE00 in UTF-16, before U+E000: code point order would differ.
    document = {"\ue000": 1, "\U0001f600": 2}
    assert canonical_json(document) == rfc8785.dumps(document)
    assert canonical_json(document).index("\U0001f600".encode()) < canonical_json(document).index(
        "\ue000".encode()
    )


@settings(max_examples=300)
@given(
    st.dictionaries(st.text().filter(lambda key: key != "entry_id"), scalars, max_size=4),
    st.integers(0, 2**53 - 1),
)
def test_a_leaf_template_around_any_id_is_the_canonical_payload(payload, entry_id):
    """The one-statement posting writes head + the id's digits + tail in SQL: for every
    payload (quotes, escapes, non-ASCII) and every id the log takes, that is the payload's
    canonical JSON."""
    leaf = queue.template("ledger.entry", payload, "entry_id")
    written = leaf.head + str(entry_id).encode() + leaf.tail
    assert written == rfc8785.dumps({**payload, "entry_id": entry_id})
