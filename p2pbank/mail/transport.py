"""Where mail goes: an SMTP server (SMTP_URL), or in development a folder of .eml files.

`install` is called once per process by the app factory, so the scheduled work, whoever
runs it (`flask tick`, a worker), delivers the same way without a config object.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlsplit

SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
TIMEOUT_SECONDS = 20


class DeliveryError(Exception):
    """The mail was not delivered; `permanent` when trying again cannot help (a 5xx)."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class Transport(Protocol):
    def send(self, message: Message, mail_id: int) -> None: ...


@dataclass(frozen=True)
class SmtpTarget:
    scheme: str
    host: str
    port: int
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpTarget:
    """smtp://host:port (plain), smtp+starttls://user:pass@host, smtps://user:pass@host."""
    parts = urlsplit(url)
    if parts.scheme not in SCHEMES or not parts.hostname:
        raise ValueError("SMTP_URL looks like smtp://host:25, smtp+starttls:// or smtps://")
    return SmtpTarget(
        scheme=parts.scheme,
        host=parts.hostname,
        port=parts.port or SCHEMES[parts.scheme],
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class SmtpTransport:
    """One connection per mail: the scheduled work sends few, and a broken connection
    never poisons the next mail."""

    def __init__(self, url: str) -> None:
        self.target = parse_smtp_url(url)

    def _connect(self) -> smtplib.SMTP:
        t = self.target
        if t.scheme == "smtps":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(t.host, t.port, timeout=TIMEOUT_SECONDS, context=context)
        client = smtplib.SMTP(t.host, t.port, timeout=TIMEOUT_SECONDS)
        if t.scheme == "smtp+starttls":
            client.starttls(context=ssl.create_default_context())
        return client

    def send(self, message: Message, mail_id: int) -> None:
        try:
            with self._connect() as client:
                if self.target.username:
                    client.login(self.target.username, self.target.password or "")
                client.send_message(message)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = [code for code, _msg in exc.recipients.values()]
            raise DeliveryError(
                f"recipient refused: {codes}", all(c >= 500 for c in codes)
            ) from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}", exc.smtp_code >= 500) from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"{type(exc).__name__}: {exc}"[:300]) from None


class FolderTransport:
    """Development: each mail becomes <id>.eml in a folder (listed on /dev/mail)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def send(self, message: Message, mail_id: int) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.folder / f"{mail_id}.eml"
        partial = path.with_suffix(".part")
        partial.write_bytes(message.as_bytes())
        partial.replace(path)  # whole files only: the page never shows half a mail


@dataclass(frozen=True)
class MailSettings:
    transport: Transport | None
    mail_from: str
    base_url: str


_installed: list[MailSettings] = []


def install(settings: MailSettings | None) -> None:
    _installed.clear()
    if settings is not None:
        _installed.append(settings)


def installed() -> MailSettings | None:
    """The process's mail settings; None when mail is not delivered (test suites)."""
    return _installed[0] if _installed else None


def dev_folder(instance_path: str) -> Path:
    return Path(instance_path) / "mail"


def settings_for(
    *, env: str, smtp_url: str, mail_from: str, base_url: str, instance_path: str
) -> MailSettings | None:
    """SMTP when configured; development without SMTP writes .eml files; other
    environments without SMTP (test suites) deliver nothing unless a test installs it."""
    if smtp_url:
        transport: Transport | None = SmtpTransport(smtp_url)
    elif env == "development":
        transport = FolderTransport(dev_folder(instance_path))
    else:
        return None
    return MailSettings(transport=transport, mail_from=mail_from, base_url=base_url)
