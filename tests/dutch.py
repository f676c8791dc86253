"""The Dutch catalog as it will be once the pending translations are merged: the compiled
catalog's messages with those of any i18n/*.po on top (new messages wait there until the
catalog is next rebuilt)."""

from __future__ import annotations

import io
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

ROOT = Path(__file__).resolve().parents[1]
CATALOG = ROOT / "p2pbank/translations/nl/LC_MESSAGES/messages.po"


def dutch_catalog() -> Catalog:
    with CATALOG.open("rb") as f:
        catalog = read_po(f, locale="nl")
    for pending in sorted((ROOT / "i18n").glob("*.po")):
        with pending.open("rb") as f:
            for message in read_po(f, locale="nl"):
                if message.id and message.string:
                    catalog[message.id] = message
    return catalog


def dutch_translations() -> Translations:
    buffer = io.BytesIO()
    write_mo(buffer, dutch_catalog())
    buffer.seek(0)
    return Translations(buffer)


def speak_pending_dutch(monkeypatch) -> None:
    """Mails and pages read Dutch from the merged catalog for the rest of the test."""
    from babel.support import NullTranslations

    from p2pbank.notifications import render

    dutch = dutch_translations()
    english = NullTranslations()
    monkeypatch.setattr(render, "catalog", lambda locale: dutch if locale == "nl" else english)
