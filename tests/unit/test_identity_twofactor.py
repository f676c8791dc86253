"""TOTP (RFC 6238) codes, the ±1 step window, replay protection and recovery-code formats."""

from __future__ import annotations

import base64
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from p2pbank.identity import twofactor

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890"; the table
# gives 8-digit codes, whose last six digits are the 6-digit codes (both are the same
# truncated HMAC value modulo 10^digits).
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = [
    (59, "94287082"),
    (1111111109, "07081804"),
    (1111111111, "14050471"),
    (1234567890, "89005924"),
    (2000000000, "69279037"),
    (20000000000, "65353130"),
]

SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
T0 = datetime(2026, 11, 2, 9, 0, 10, tzinfo=UTC)  # 10 s into a 30 s step


def at_offset(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.mark.parametrize(("unix_time", "eight_digits"), RFC_VECTORS)
def test_rfc_6238_vectors(unix_time, eight_digits):
    moment = datetime.fromtimestamp(unix_time, UTC)
    assert twofactor.code_at(RFC_SECRET, moment) == eight_digits[-6:]


def test_time_step_is_unix_time_over_thirty():
    assert twofactor.time_step(datetime.fromtimestamp(59, UTC)) == 1
    assert twofactor.time_step(datetime.fromtimestamp(60, UTC)) == 2
    with pytest.raises(ValueError):
        twofactor.time_step(datetime(2026, 1, 1))  # naive


def test_new_secret_is_160_bits_of_base32_and_unique():
    secrets = {twofactor.new_secret() for _ in range(50)}
    assert len(secrets) == 50
    for secret in secrets:
        assert len(secret) == 32
        assert len(base64.b32decode(secret)) == 20


def test_provisioning_uri_names_issuer_and_account():
    uri = twofactor.provisioning_uri(SECRET, "ann@example.test")
    assert uri.startswith("otpauth://totp/p2pbank:ann%40example.test?")
    assert f"secret={SECRET}" in uri
    assert "issuer=p2pbank" in uri


@pytest.mark.parametrize("offset_steps", [-1, 0, 1])
def test_codes_one_step_either_side_are_accepted(offset_steps):
    step = twofactor.time_step(T0)
    code = twofactor.code_at_step(SECRET, step + offset_steps)
    assert twofactor.matching_step(SECRET, code, T0, None) == step + offset_steps


@pytest.mark.parametrize("offset_steps", [-3, -2, 2, 3])
def test_codes_further_away_are_refused(offset_steps):
    code = twofactor.code_at_step(SECRET, twofactor.time_step(T0) + offset_steps)
    assert twofactor.matching_step(SECRET, code, T0, None) is None


def test_a_used_code_is_refused_the_second_time():
    code = twofactor.code_at(SECRET, T0)
    step = twofactor.matching_step(SECRET, code, T0, None)
    assert step is not None
    assert twofactor.matching_step(SECRET, code, T0, step) is None
    # ...even a few seconds later, while it is still within the window
    assert twofactor.matching_step(SECRET, code, at_offset(25), step) is None


def test_after_a_newer_code_an_older_one_is_refused():
    current = twofactor.time_step(T0)
    newer = twofactor.code_at_step(SECRET, current + 1)
    older = twofactor.code_at_step(SECRET, current - 1)
    used = twofactor.matching_step(SECRET, newer, T0, None)
    assert used == current + 1
    assert twofactor.matching_step(SECRET, older, T0, used) is None
    # the next step's code is fine once its time comes... but not the used one again
    assert twofactor.matching_step(SECRET, newer, at_offset(30), used) is None
    later = twofactor.code_at_step(SECRET, current + 2)
    assert twofactor.matching_step(SECRET, later, at_offset(30), used) == current + 2


def test_wrong_secret_and_malformed_codes_are_refused():
    code = twofactor.code_at(SECRET, T0)
    assert twofactor.matching_step("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", code, T0, None) is None
    for bad in ["", "12345", "1234567", "abcdef", "12 34 5", "１２３４５６", "٣٣٣٣٣٣"]:
        assert twofactor.matching_step(SECRET, bad, T0, None) is None, bad


def test_spaces_and_dashes_in_a_code_are_ignored():
    code = twofactor.code_at(SECRET, T0)
    spaced = f"{code[:3]} {code[3:]}"
    dashed = f"{code[:3]}-{code[3:]}"
    assert twofactor.matching_step(SECRET, spaced, T0, None) is not None
    assert twofactor.matching_step(SECRET, dashed, T0, None) is not None


@given(st.integers(min_value=0, max_value=2**33))
def test_any_moment_accepts_its_own_code_once(unix_time):
    moment = datetime.fromtimestamp(unix_time, UTC)
    code = twofactor.code_at(SECRET, moment)
    step = twofactor.matching_step(SECRET, code, moment, None)
    assert step is not None
    assert twofactor.code_at_step(SECRET, step) == code
    assert twofactor.matching_step(SECRET, code, moment, step) is None


@pytest.mark.parametrize(
    ("typed", "canonical"),
    [
        ("K7QX3-M2PA9", "K7QX3-M2PA9"),
        ("k7qx3m2pa9", "K7QX3-M2PA9"),
        (" k7qx3 m2pa9 ", "K7QX3-M2PA9"),
        ("K7QX3—M2PA9", "K7QX3-M2PA9"),
        ("K7QX3-M2PA", None),
        ("K7QX3-M2PA99", None),
        ("", None),
        ("ÄÄÄÄÄ-ÄÄÄÄÄ", None),
    ],
)
def test_recovery_codes_are_normalized_before_hashing(typed, canonical):
    assert twofactor.normalize_recovery_code(typed) == canonical


def test_qr_code_is_a_standalone_svg_without_scripts_or_styles():
    svg = twofactor.qr_svg(twofactor.provisioning_uri(SECRET, "ann@example.test"))
    assert "<svg" in svg and "</svg>" in svg
    assert "<script" not in svg.lower()
    assert "style=" not in svg.lower()
    assert 'fill="white"' in svg or 'fill="#fff' in svg.lower()  # readable on dark pages
