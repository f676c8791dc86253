"""Secrets shown once and stored as hashes: API tokens, reset links, recovery codes."""

from __future__ import annotations

import hashlib
import re

from p2pbank.identity import tokens


def test_token_hash_is_sha256_hex_of_the_stripped_token():
    assert tokens.token_hash("abc") == hashlib.sha256(b"abc").hexdigest()
    assert tokens.token_hash("  abc\n") == tokens.token_hash("abc")
    assert re.fullmatch(r"[0-9a-f]{64}", tokens.token_hash("p2pb_x"))


def test_different_tokens_hash_differently_and_the_hash_is_not_the_token():
    a, b = tokens.new_api_token(), tokens.new_api_token()
    assert a != b
    assert tokens.token_hash(a) != tokens.token_hash(b)
    assert a not in tokens.token_hash(a)


def test_api_tokens_carry_the_prefix_and_256_bits():
    token = tokens.new_api_token()
    assert token.startswith(tokens.API_TOKEN_PREFIX)
    body = token[len(tokens.API_TOKEN_PREFIX) :]
    assert len(body) == 43  # 32 bytes in URL-safe base64 without padding
    assert re.fullmatch(r"[A-Za-z0-9_-]+", body)


def test_url_tokens_are_unique_and_url_safe():
    seen = {tokens.new_url_token() for _ in range(200)}
    assert len(seen) == 200
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{43}", t) for t in seen)


def test_recovery_codes_are_readable_and_avoid_lookalike_characters():
    for _ in range(200):
        code = tokens.new_recovery_code()
        assert re.fullmatch(r"[A-HJ-NP-Z2-9]{5}-[A-HJ-NP-Z2-9]{5}", code), code
        assert not set(code) & set("01IO")


def test_same_hash_compares_exactly():
    h = tokens.token_hash("x")
    assert tokens.same_hash(h, tokens.token_hash("x"))
    assert not tokens.same_hash(h, tokens.token_hash("y"))
