"""The trust log's two keys, resolved from configuration values passed in (no framework).

- The pseudonym key turns user ids into subjects (HMAC-SHA256), so the public log carries
  no personal data yet one member's events can be grouped. From AUDIT_PSEUDONYM_KEY when
  set, else derived from SECRET_KEY. In development a key kept in the instance folder is
  used instead, so pseudonyms stay stable even when SECRET_KEY is set and changed.
  Changing this key changes every future pseudonym: set AUDIT_PSEUDONYM_KEY once in
  production and keep it.
- The checkpoint signer (an Ed25519 note key, `flask audit-keygen`): AUDIT_SIGNING_KEY; in
  development and tests a key is generated into the instance folder on first use; in
  production a missing key is a startup error (p2pbank.config).

Sessions carry the pseudonym key in `session.info[PSEUDONYM_INFO_KEY]` (bytes, or a
callable returning bytes, resolved on first use) so `audit.services.append` needs no
configuration object and no framework.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Mapping
from datetime import timedelta
from pathlib import Path

from p2pbank.audit.note import Signer, generate_signer, parse_skey
from p2pbank.instance_files import read_or_create

PSEUDONYM_INFO_KEY = "p2pbank.audit.pseudonym_key"
PSEUDONYM_LABEL = b"p2pbank/audit/pseudonym/v1"
DEV_SIGNING_KEY_FILE = "audit-signing.key"
DEV_PSEUDONYM_KEY_FILE = "audit-pseudonym.key"
DEFAULT_KEY_NAME = "p2pbank.localhost/trust-log"

_file_lock = threading.Lock()


def derive_pseudonym_key(secret: str) -> bytes:
    """A 32-byte key for pseudonyms, domain-separated from every other use of `secret`."""
    if not secret:
        raise ValueError("an empty secret cannot key pseudonyms")
    return hmac.new(secret.encode(), PSEUDONYM_LABEL, hashlib.sha256).digest()


def session_info(key: bytes | Callable[[], bytes]) -> dict:
    """The `info` to build sessions with: sessionmaker(..., info=session_info(key))."""
    return {PSEUDONYM_INFO_KEY: key}


def _read_or_create(path: Path, make: Callable[[], str]) -> str:
    """The file's content, or a new value written once (0600) if the file does not exist;
    processes starting together agree on one value (see p2pbank.instance_files)."""
    with _file_lock:
        return read_or_create(path, make)


def pseudonym_key_source(config: Mapping) -> Callable[[], bytes]:
    """A cached zero-argument resolver of the pseudonym key for this configuration."""
    configured = config.get("AUDIT_PSEUDONYM_KEY") or ""
    env = config.get("ENV", "development")
    secret = config.get("SECRET_KEY") or ""
    instance = config.get("INSTANCE_PATH") or "instance"
    cache: list[bytes] = []

    def resolve() -> bytes:
        if not cache:
            if configured:
                cache.append(derive_pseudonym_key(configured))
            elif env == "development":
                path = Path(instance) / DEV_PSEUDONYM_KEY_FILE
                cache.append(
                    derive_pseudonym_key(_read_or_create(path, lambda: os.urandom(32).hex()))
                )
            else:
                cache.append(derive_pseudonym_key(secret))
        return cache[0]

    return resolve


def signer_for(config: Mapping) -> Signer:
    """The checkpoint signer: AUDIT_SIGNING_KEY, or (outside production) the instance key."""
    configured = config.get("AUDIT_SIGNING_KEY") or ""
    if configured:
        return parse_skey(configured)
    if config.get("ENV") == "production":
        raise RuntimeError("AUDIT_SIGNING_KEY must be set in production (flask audit-keygen)")
    path = Path(config.get("INSTANCE_PATH") or "instance") / DEV_SIGNING_KEY_FILE
    return parse_skey(_read_or_create(path, lambda: generate_signer(DEFAULT_KEY_NAME).skey))


def max_merge_delay(config: Mapping) -> timedelta:
    """The trust log's published maximum merge delay (AUDIT_MAX_MERGE_DELAY seconds)."""
    return timedelta(seconds=int(config.get("AUDIT_MAX_MERGE_DELAY") or 60))
