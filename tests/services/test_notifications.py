"""Notifications: stored as kind + parameters, at most once per event key, read and
marked read by their owner only, mailed (as an outbox row, in the reader's language)
unless the person turned that kind off."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from sqlalchemy import select

from p2pbank.errors import NotFound, ValidationFailed
from p2pbank.identity import services as identity
from p2pbank.identity.models import OutboxMail
from p2pbank.mail import notices
from p2pbank.notifications import kinds, queries, services
from p2pbank.notifications.models import Notification
from p2pbank.notifications.render import render
from p2pbank.uow import command

BASE = "http://127.0.0.1:5000"
INCOME = {"amount_minor": 12_345, "currency": "EUR", "loan_id": 7}


def _notify(
    session, user_id, kind="repayment_received", params=INCOME, link="/lending/lend", key=None
):
    with command(session):
        return services.notify(session, user_id, kind, params, link, key=key)


def _mails_to(session, address) -> list[OutboxMail]:
    return list(session.scalars(select(OutboxMail).where(OutboxMail.to_address == address)))


def test_a_notification_is_kind_and_parameters_rendered_in_the_readers_language(session, make_user):
    user = make_user()
    note = _notify(session, user.id)
    stored = session.get(Notification, note.id)
    assert (stored.kind, stored.params, stored.email_state) == (
        "repayment_received",
        INCOME,
        "pending",
    )
    assert render(stored.kind, stored.params, "en") == "You received €123.45 from loan #7."
    assert "€\xa0123,45" in render(stored.kind, stored.params, "nl")  # Dutch money
    assert render("no_longer_a_kind", {}, "en") == "no_longer_a_kind"
    assert render("repayment_received", {}, "en") == "repayment_received"  # params lost


def test_the_dutch_sentences_of_the_catalogue():
    """Every kind has a Dutch sentence with the same placeholders in the catalog."""
    po = Path(__file__).resolve().parents[2] / "p2pbank/translations/nl/LC_MESSAGES/messages.po"
    with po.open("rb") as f:
        catalog = read_po(f, locale="nl")
    import io

    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    dutch = Translations(buffer)
    placeholders = re.compile(r"%\((\w+)\)s")
    for kind in kinds.KINDS.values():
        assert catalog.get(kind.text) is not None and catalog.get(kind.text).string, kind.name
        assert catalog.get(kind.label) is not None and catalog.get(kind.label).string, kind.name
        translated = catalog.get(kind.text).string
        assert set(placeholders.findall(translated)) == set(placeholders.findall(kind.text))
    sentence = render("repayment_received", INCOME, "nl", translations=dutch)
    assert sentence == "Je hebt €\xa0123,45 ontvangen van lening #7."


def test_refused_parameters_and_links(session, make_user):
    user = make_user()
    with pytest.raises(ValueError):
        services.notify(session, user.id, "not_a_kind")
    with pytest.raises(ValueError):
        services.notify(session, user.id, "repayment_received", {"amount_minor": 5})  # no currency
    with pytest.raises(ValueError):
        services.notify(session, user.id, "role_granted", {"role": ["a"]})
    for link in ("https://evil.example/", "//evil.example", "lending"):
        with pytest.raises(ValueError):
            services.notify(session, user.id, "role_granted", {"role": "lender"}, link)


def test_one_notification_per_event_key(session, make_user):
    user = make_user()
    assert _notify(session, user.id, key="instalment-due:1") is not None
    assert _notify(session, user.id, key="instalment-due:1") is None
    assert _notify(session, user.id, key="instalment-due:2") is not None
    assert queries.unread_count(session, user.id) == 2


def test_only_the_owner_reads_and_marks_read(session, make_user):
    ann, bob = make_user(), make_user()
    first = _notify(session, ann.id)
    _notify(session, ann.id)
    with pytest.raises(NotFound):
        services.mark_read(session, bob.id, first.id)
    assert queries.page_for(session, bob.id).total == 0
    services.mark_read(session, ann.id, first.id)
    assert queries.unread_count(session, ann.id) == 1
    assert services.mark_all_read(session, ann.id) == 1
    assert queries.unread_count(session, ann.id) == 0
    page = queries.page_for(session, ann.id, per_page=1)
    assert (page.total, page.pages, len(page.notifications)) == (2, 2, 1)
    with pytest.raises(ValidationFailed):
        queries.page_for(session, ann.id, page=0)


def test_the_mail_is_written_in_the_recipients_language(session, make_user):
    ann = make_user()
    identity.set_locale(session, ann.id, "nl")
    _notify(session, ann.id)
    assert notices.queue_notification_mail(session, BASE) >= 1
    # Dutch from the compiled catalog, Dutch money.
    (mail,) = [m for m in _mails_to(session, ann.email) if "#7" in m.subject]
    assert "€\xa0123,45" in mail.subject
    assert "ontvangen" in mail.subject + mail.body
    assert f"{BASE}/lending/lend" in mail.body
    assert f"{BASE}/settings/notifications" in mail.body
    assert notices.queue_notification_mail(session, BASE) == 0  # written once


def test_a_kind_turned_off_stays_in_the_app_only(session, make_user):
    ann = make_user()
    wanted = set(kinds.KINDS) - {"repayment_received"}
    assert services.set_email_kinds(session, ann.id, wanted) == {"repayment_received"}
    assert queries.email_settings(session, ann.id)["repayment_received"] is False
    assert queries.email_settings(session, ann.id)["instalment_due_soon"] is True
    before = len(_mails_to(session, ann.email))
    note = _notify(session, ann.id)
    assert note.email_state == "none"
    notices.queue_notification_mail(session, BASE)
    assert len(_mails_to(session, ann.email)) == before
    assert queries.unread_count(session, ann.id) == 1
    with pytest.raises(ValidationFailed):
        services.set_email_kinds(session, ann.id, ["nonsense"])
    services.set_email_kinds(session, ann.id, kinds.KINDS)  # all back on
    assert _notify(session, ann.id).email_state == "pending"


def test_a_kind_turned_off_after_the_event_is_not_mailed_either(session, make_user):
    ann = make_user()
    note = _notify(session, ann.id)
    assert note.email_state == "pending"
    services.set_email_kinds(session, ann.id, set(kinds.KINDS) - {"repayment_received"})
    before = len(_mails_to(session, ann.email))
    notices.queue_notification_mail(session, BASE)
    session.refresh(note)
    assert note.email_state == "none"
    assert len(_mails_to(session, ann.email)) == before
