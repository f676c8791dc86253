"""The log's canonical JSON: the fast path writes exactly the bytes of RFC 8785 (the
rfc8785 package) for every float-free document, non-ASCII text and escapes included."""

from __future__ import annotations

import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st

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
