"""Where the trust log's keys come from (p2pbank.audit.keys) and the startup checks."""

from __future__ import annotations

import os

import pytest

from p2pbank.audit import keys, note
from p2pbank.config import Config, ConfigError


def test_the_pseudonym_key_is_derived_from_the_configured_secret():
    config = {"ENV": "production", "SECRET_KEY": "s" * 40, "AUDIT_PSEUDONYM_KEY": "p" * 40}
    assert keys.pseudonym_key_source(config)() == keys.derive_pseudonym_key("p" * 40)
    del config["AUDIT_PSEUDONYM_KEY"]
    derived = keys.pseudonym_key_source(config)()
    assert derived == keys.derive_pseudonym_key("s" * 40) and derived != b"s" * 40
    assert len(derived) == 32


def test_development_keeps_a_pseudonym_key_in_the_instance_folder(tmp_path):
    config = {
        "ENV": "development",
        "SECRET_KEY": "random-per-process",
        "INSTANCE_PATH": str(tmp_path),
    }
    first = keys.pseudonym_key_source(config)()
    again = keys.pseudonym_key_source({**config, "SECRET_KEY": "another-process"})()
    assert first == again
    path = tmp_path / keys.DEV_PSEUDONYM_KEY_FILE
    assert path.exists() and oct(path.stat().st_mode & 0o777) == "0o600"


def test_an_empty_secret_cannot_key_pseudonyms():
    with pytest.raises(ValueError):
        keys.derive_pseudonym_key("")


def test_a_configured_signing_key_is_used(tmp_path):
    signer = note.generate_signer("example.org/log")
    config = {"ENV": "production", "AUDIT_SIGNING_KEY": signer.skey, "INSTANCE_PATH": str(tmp_path)}
    assert keys.signer_for(config) == signer
    assert not (tmp_path / keys.DEV_SIGNING_KEY_FILE).exists()


def test_outside_production_a_signing_key_is_made_once_in_the_instance_folder(tmp_path):
    config = {"ENV": "development", "INSTANCE_PATH": str(tmp_path / "instance")}
    signer = keys.signer_for(config)
    assert signer.name == keys.DEFAULT_KEY_NAME
    assert keys.signer_for(config) == signer
    path = tmp_path / "instance" / keys.DEV_SIGNING_KEY_FILE
    assert path.read_text().strip() == signer.skey
    assert oct(os.stat(path).st_mode & 0o777) == "0o600"


def test_production_never_makes_a_signing_key(tmp_path):
    with pytest.raises(RuntimeError, match="AUDIT_SIGNING_KEY"):
        keys.signer_for({"ENV": "production", "INSTANCE_PATH": str(tmp_path)})
    assert not any(tmp_path.iterdir())


def test_production_does_not_start_without_a_signing_key():
    with pytest.raises(ConfigError, match="AUDIT_SIGNING_KEY"):
        Config(ENV="production", SECRET_KEY="s" * 40, DATABASE_URL="sqlite://").finish()
    signer = note.generate_signer("example.org/log")
    config = Config(
        ENV="production",
        SECRET_KEY="s" * 40,
        DATABASE_URL="sqlite://",
        AUDIT_SIGNING_KEY=signer.skey,
        BASE_URL="https://p2pbank.example",
        SMTP_URL="smtps://mailer:secret@mail.p2pbank.example",
    ).finish()
    assert signer.skey == config.AUDIT_SIGNING_KEY


def test_a_malformed_signing_key_never_starts(tmp_path):
    with pytest.raises(ConfigError, match="not a signer key"):
        Config(
            ENV="development", INSTANCE_PATH=str(tmp_path), AUDIT_SIGNING_KEY="PRIVATE+KEY+x"
        ).finish()


def test_the_environment_can_set_both_keys(tmp_path):
    signer = note.generate_signer("example.org/log")
    config = Config.from_env(
        {
            "P2PBANK_ENV": "development",
            "INSTANCE_PATH": str(tmp_path),
            "AUDIT_SIGNING_KEY": signer.skey,
            "AUDIT_PSEUDONYM_KEY": "pseudonym-secret",
        }
    )
    assert config.AUDIT_PSEUDONYM_KEY == "pseudonym-secret"
    assert keys.signer_for(config.as_flask()) == signer
