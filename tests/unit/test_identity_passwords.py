"""Password policy and argon2id hashing."""

from __future__ import annotations

import pytest
from argon2 import PasswordHasher

from p2pbank.config import Config, ConfigError
from p2pbank.identity import passwords


@pytest.mark.parametrize(
    "password",
    ["correct-horse-battery-42", "Tr0ub4dor&3-but-longer", "ééééé-ñandú-ßtraße", "a b c d e f g h"],
)
def test_good_passwords_pass(password):
    assert passwords.policy_errors(password, email="ann@example.test") == []


@pytest.mark.parametrize(
    ("password", "expected"),
    [
        ("Sh0rt-pass", "Use at least 12 characters."),
        ("", "Use at least 12 characters."),
        ("x" * 257, "Use at most 256 characters."),
        ("password1234", "This password is too common; choose another."),
        ("PASSWORD1234", "This password is too common; choose another."),
        ("qwertyuiop123!", "This password is too common; choose another."),
        ("aaaaaaaaaaaaaa", "Use more different characters."),
        ("abababababab", "Use more different characters."),
        ("my-annabel-secret-77", "Do not use your e-mail address in the password."),
    ],
)
def test_weak_passwords_are_refused_with_a_reason(password, expected):
    assert expected in passwords.policy_errors(password, email="annabel@example.test")


def test_exactly_twelve_characters_is_enough():
    assert passwords.policy_errors("zq8-Lm3#Vt5!") == []
    assert "Use at least 12 characters." in passwords.policy_errors("zq8-Lm3#Vt5")


def test_short_email_local_parts_are_not_treated_as_a_leak():
    # "bo" is too short to be a meaningful part of a password
    assert passwords.policy_errors("bolder-kite-ridge-9", email="bo@example.test") == []


def test_hash_is_argon2id_salted_and_verifies():
    first = passwords.hash_password("correct-horse-battery-42")
    second = passwords.hash_password("correct-horse-battery-42")
    assert first.startswith("$argon2id$")
    assert first != second  # a fresh salt each time
    assert passwords.verify_password(first, "correct-horse-battery-42")
    assert not passwords.verify_password(first, "correct-horse-battery-43")
    assert not passwords.verify_password("not a hash", "whatever")


@pytest.fixture
def production_cost():
    """The suite hashes at the test cost; these tests look at the production one."""
    before = passwords.current_cost()
    passwords.set_cost(passwords.PRODUCTION_COST)
    yield
    passwords.set_cost(before)


def test_old_parameters_need_a_rehash(production_cost):
    weak = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("x" * 12)
    assert passwords.needs_rehash(weak)
    assert not passwords.needs_rehash(passwords.hash_password("x" * 12))


def test_production_hashes_use_rfc_9106_low_memory_parameters(production_cost):
    assert passwords.hash_password("x" * 12).startswith("$argon2id$v=19$m=65536,t=3,p=4$")


def test_a_test_cost_hash_still_verifies_at_production_cost_and_asks_for_a_rehash():
    cheap = passwords.hash_password("correct-horse-battery-42")
    passwords.set_cost(passwords.PRODUCTION_COST)
    try:
        assert passwords.verify_password(cheap, "correct-horse-battery-42")
        assert passwords.needs_rehash(cheap)
    finally:
        passwords.set_cost(passwords.TEST_COST)


def test_production_refuses_the_test_hash_cost():
    with pytest.raises(ConfigError, match="never production"):
        Config(
            ENV="production",
            SECRET_KEY="s" * 40,
            DATABASE_URL="sqlite://",
            AUDIT_SIGNING_KEY="",
            ARGON2_COST="test",
        ).finish()
    with pytest.raises(ConfigError, match="ARGON2_COST"):
        Config(ENV="development", ARGON2_COST="cheap").finish()
