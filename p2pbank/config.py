"""Configuration read from the environment only; nothing secret has a production default."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field, fields
from pathlib import Path
from urllib.parse import urlsplit

from p2pbank.instance_files import read_or_create

DEVELOPMENT_BASE_URL = "http://127.0.0.1:5000"
# Outside production the site also answers to these names (test clients, a local browser).
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")

# Outside production the session-signing key lives here, made by the first process that
# starts, so every worker signs sessions and CSRF tokens with the same key.
DEV_SECRET_KEY_FILE = "secret.key"  # noqa: S105 - a file name, not a secret


class ConfigError(RuntimeError):
    """The process cannot start safely with the environment it was given."""


def _default_database_url(instance_path: Path) -> str:
    return f"sqlite:///{instance_path / 'p2pbank.sqlite3'}"


@dataclass
class Config:
    """Everything the app needs to start; built by `from_env` or directly in tests."""

    ENV: str = "development"
    SECRET_KEY: str = ""
    DATABASE_URL: str = ""
    # Give up on the database rather than hang (the page then answers 503): seconds to
    # connect (PostgreSQL), per statement (PostgreSQL, 0: none), waiting for SQLite's
    # write lock, waiting for a free pooled connection.
    DB_CONNECT_TIMEOUT: int = 3
    DB_STATEMENT_TIMEOUT_MS: int = 30_000
    DB_BUSY_TIMEOUT_MS: int = 30_000
    DB_POOL_TIMEOUT: int = 10
    READINESS_TIMEOUT: float = 2.0  # /readyz answers within about this many seconds
    REDIS_URL: str = ""
    # Where rate-limit counters live: empty means REDIS_URL when set, else a SQLite file in
    # the instance folder shared by this machine's workers (memory in test suites).
    RATELIMIT_STORAGE_URI: str = ""
    INSTANCE_PATH: str = ""
    # The scheduler's broker: amqp://... (RabbitMQ) or redis://...; empty means REDIS_URL
    # when set, else a filesystem broker in the instance folder (one machine, no server).
    CELERY_BROKER_URL: str = ""
    CELERY_QUEUE: str = "p2pbank"  # one per platform when several share a broker
    # Seconds an unacknowledged task waits before Redis hands it to another worker (a
    # worker that died mid-task); RabbitMQ redelivers as soon as the connection drops.
    CELERY_VISIBILITY_TIMEOUT: int = 300
    # /readyz checks the broker and the worker's heartbeat (503 after WORKER_SILENT_AFTER
    # seconds without one). Unset: expected everywhere except test suites.
    RUNTIME_EXPECTS_WORKER: bool | None = None
    WORKER_SILENT_AFTER: int = 120
    # Where the site lives, e.g. https://p2pbank.example: every link that leaves the site
    # (mail, gateway return addresses) is built from it, never from the request's Host.
    BASE_URL: str = ""
    # Extra host names the site answers to, comma-separated; the BASE_URL's host always is.
    # "*" turns the check off (only when a proxy in front already refuses other hosts).
    TRUSTED_HOSTS: str = ""
    # How many proxies in front of the app set X-Forwarded-For/-Proto (0: none, trust none).
    TRUSTED_PROXY_COUNT: int = 0
    TESTING: bool = False
    WTF_CSRF_ENABLED: bool = True
    RATELIMIT_ENABLED: bool = True
    LOGIN_LIMIT_PER_ACCOUNT: str = "5 per 15 minutes"
    LOGIN_LIMIT_PER_IP: str = "20 per 15 minutes"
    # Each accepted sign-up sends a mail: bound them per source and per address.
    SIGN_UP_LIMIT_PER_IP: str = "20 per hour"
    SIGN_UP_LIMIT_PER_EMAIL: str = "5 per hour"
    MAX_CONTENT_LENGTH: int = 1024 * 1024
    PASSWORD_RESET_TTL_SECONDS: int = 3600
    SIGN_UP_TTL_SECONDS: int = 86400  # how long a mailed sign-up link works
    STRIPE_SECRET_KEY: str = ""
    STRIPE_WEBHOOK_SECRET: str = ""
    STRIPE_API_BASE: str = ""
    STRIPE_PUBLISHABLE_KEY: str = ""  # for Stripe.js on the deposit page
    # Per-deposit limits in cents (EUR 10 to EUR 25,000) and the payout accounts' country.
    PAYMENTS_MIN_DEPOSIT_MINOR: int = 1_000
    PAYMENTS_MAX_DEPOSIT_MINOR: int = 2_500_000
    PAYMENTS_PAYOUT_COUNTRY: str = "NL"
    AUDIT_SIGNING_KEY: str = ""  # Ed25519 note key (flask audit-keygen); required in production
    AUDIT_PSEUDONYM_KEY: str = ""  # keys the trust log's pseudonyms; else from SECRET_KEY
    # The trust log's published maximum merge delay: a queued leaf is in the tree within
    # this many seconds, or /readyz degrades, the auditor pages warn and the verifier fails.
    AUDIT_MAX_MERGE_DELAY: int = 60
    BABEL_DEFAULT_LOCALE: str = "en"
    # Where mail leaves: smtp://host:25, smtp+starttls://user:pass@host:587 or
    # smtps://user:pass@host:465. Required in production; development without it writes
    # each mail as an .eml file in the instance folder (shown on /dev/mail).
    SMTP_URL: str = ""
    MAIL_FROM: str = ""  # e.g. "p2pbank <no-reply@p2pbank.example>"; else from BASE_URL
    # "test": the cheapest argon2id, for test suites only (refused in production); empty:
    # the RFC 9106 low-memory profile.
    ARGON2_COST: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def is_production(self) -> bool:
        return self.ENV == "production"

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Config:
        """Read `P2PBANK_ENV`, `SECRET_KEY`, `DATABASE_URL`, ... from the environment."""
        env = dict(os.environ if environ is None else environ)
        cfg = cls(ENV=env.get("P2PBANK_ENV", "development"))
        for f in fields(cls):
            if f.name in ("ENV", "extra") or f.name not in env:
                continue
            raw = env[f.name]
            if f.type in ("bool", "bool | None"):
                value: object = raw.lower() in ("1", "true", "yes", "on")
            elif f.type == "int":
                value = int(raw)
            elif f.type == "float":
                value = float(raw)
            else:
                value = raw
            setattr(cfg, f.name, value)
        return cfg.finish()

    def finish(self) -> Config:
        """Fill development defaults and refuse unsafe production settings."""
        if not self.INSTANCE_PATH:
            self.INSTANCE_PATH = str(Path.cwd() / "instance")
        if self.ARGON2_COST not in ("", "test"):
            raise ConfigError("ARGON2_COST is empty or 'test'")
        if self.ARGON2_COST and self.is_production:
            raise ConfigError("ARGON2_COST=test is for test suites, never production")
        if not self.SECRET_KEY:
            if self.is_production:
                raise ConfigError("SECRET_KEY must be set in production")
            self.SECRET_KEY = read_or_create(
                Path(self.INSTANCE_PATH) / DEV_SECRET_KEY_FILE, lambda: secrets.token_hex(32)
            )
        if not self.DATABASE_URL:
            if self.is_production:
                raise ConfigError("DATABASE_URL must be set in production")
            self.DATABASE_URL = _default_database_url(Path(self.INSTANCE_PATH))
        if self.RUNTIME_EXPECTS_WORKER is None:
            self.RUNTIME_EXPECTS_WORKER = not self.TESTING
        self._check_audit_signing_key()
        if not 1 <= self.AUDIT_MAX_MERGE_DELAY <= 86_400:
            raise ConfigError("AUDIT_MAX_MERGE_DELAY is 1 to 86400 seconds")
        self._check_base_url()
        self._check_mail()
        return self

    def _check_mail(self) -> None:
        """Production sends real mail: without a server, password resets would vanish."""
        if not self.SMTP_URL:
            if self.is_production:
                raise ConfigError("SMTP_URL must be set in production (smtps://user:pass@host)")
        else:
            from p2pbank.mail.transport import parse_smtp_url

            try:
                parse_smtp_url(self.SMTP_URL)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        if not self.MAIL_FROM:
            host = urlsplit(self.BASE_URL or DEVELOPMENT_BASE_URL).hostname or "localhost"
            self.MAIL_FROM = f"p2pbank <no-reply@{host}>"

    def _check_base_url(self) -> None:
        """Production names its address; a development server lives on 127.0.0.1:5000."""
        if not self.BASE_URL:
            if self.is_production:
                raise ConfigError("BASE_URL must be set in production (https://your.host)")
            self.BASE_URL = DEVELOPMENT_BASE_URL
        parts = urlsplit(self.BASE_URL)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.query:
            raise ConfigError("BASE_URL must look like https://p2pbank.example")
        if self.is_production and parts.scheme != "https":
            raise ConfigError("BASE_URL must be https:// in production")
        if self.TRUSTED_PROXY_COUNT < 0:
            raise ConfigError("TRUSTED_PROXY_COUNT cannot be negative")

    def trusted_hosts(self) -> list[str] | None:
        """The Host names requests may carry (anything else is a 400); None checks none."""
        extra = [h.strip() for h in self.TRUSTED_HOSTS.split(",") if h.strip()]
        if "*" in extra:
            return None
        hosts = [urlsplit(self.BASE_URL or DEVELOPMENT_BASE_URL).hostname or "", *extra]
        if not self.is_production:
            hosts.extend(LOCAL_HOSTS)
        return list(dict.fromkeys(h for h in hosts if h))

    def _check_audit_signing_key(self) -> None:
        """Production signs checkpoints with a configured key only (elsewhere a key is made
        in the instance folder on first use); a malformed key never starts."""
        if not self.AUDIT_SIGNING_KEY:
            if self.is_production:
                raise ConfigError("AUDIT_SIGNING_KEY must be set in production (audit-keygen)")
            return
        from p2pbank.audit.note import NoteError, parse_skey

        try:
            parse_skey(self.AUDIT_SIGNING_KEY)
        except NoteError as exc:
            raise ConfigError(f"AUDIT_SIGNING_KEY is not a signer key: {exc}") from None

    def as_flask(self) -> dict:
        values = {f.name: getattr(self, f.name) for f in fields(self) if f.name != "extra"}
        values["TRUSTED_HOSTS"] = self.trusted_hosts()  # Flask's own check takes a list
        values["BASE_URL"] = (self.BASE_URL or DEVELOPMENT_BASE_URL).rstrip("/")
        values.update(self.extra)
        return values
