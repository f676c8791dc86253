"""Mail that leaves: outbox rows delivered to a real SMTP server (aiosmtpd), retried with
back-off, failed after the last attempt, queued again by an admin, claimed once."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from p2pbank.config import Config, ConfigError
from p2pbank.errors import Forbidden, InvalidState
from p2pbank.identity.models import OutboxMail
from p2pbank.mail import admin, delivery, due, rules
from p2pbank.mail.transport import MailSettings, SmtpTransport, install, parse_smtp_url
from tests.smtp_server import SmtpServer, free_port
from tests.support.pages import Browser

T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
NEW_PASSWORD = "a-brand-new-secret-77"


@pytest.fixture
def smtp():
    with SmtpServer() as server:
        yield server
    install(None)  # the next test's app installs its own


@pytest.fixture
def config(config, smtp):
    """The app of these tests sends through the test's SMTP server."""
    return replace(config, SMTP_URL=smtp.url)


def _settings(url: str) -> MailSettings:
    return MailSettings(SmtpTransport(url), "p2pbank <no-reply@p2pbank.test>", "http://x")


def _mail(session, to="ann@example.test", subject="Hello") -> OutboxMail:
    row = OutboxMail(to_address=to, subject=subject, body="Dear Ann,\n\nhello.")
    session.add(row)
    session.commit()
    return row


def test_a_reset_link_arrives_by_smtp_and_works(app, make_user, session, smtp):
    user = make_user()
    browser = Browser(app.test_client())
    browser.submit("/password/forgot", {"email": user.email})
    assert smtp.inbox.messages == []  # nothing leaves before the scheduled work runs

    done = due.run_due(session, datetime.now(UTC))
    assert (done["mail.sent"], done["mail.retrying"], done["mail.failed"]) == (1, 0, 0)

    (message,) = smtp.inbox.to(user.email)
    assert message["Subject"] == "Reset your p2pbank password"
    assert message["From"] == app.config["MAIL_FROM"]
    link = re.search(r"http://127\.0\.0\.1:5000(/password/reset/\S+)", message.get_content())
    done = browser.submit(link.group(1), {"new_password": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"] == "/login"
    assert Browser(app.test_client()).login(user.email, NEW_PASSWORD).status_code == 302

    row = session.scalar(  # the reset mail: the "password changed" one is queued after it
        select(OutboxMail).where(OutboxMail.to_address == user.email).order_by(OutboxMail.id)
    )
    assert (row.status, row.attempts, row.sent_at is not None) == ("sent", 1, True)
    assert due.run_due(session, datetime.now(UTC))["mail.sent"] == 1  # "password changed"
    assert due.run_due(session, datetime.now(UTC))["mail.sent"] == 0  # each sent once only
    subjects = [m["Subject"] for m in smtp.inbox.to(user.email)]
    assert subjects == ["Reset your p2pbank password", "Your password was changed"]


def test_temporary_refusals_back_off_1_4_16_64_256_minutes_then_fail(session, smtp):
    smtp.inbox.refuse_with = "451 4.3.0 Try again later"
    row = _mail(session)
    settings = _settings(smtp.url)
    moment = T0
    for wait in rules.BACKOFF_MINUTES:
        assert due.run_due(session, moment, settings)["mail.retrying"] == 1
        session.refresh(row)
        assert (row.status, row.next_attempt_at) == ("queued", moment + timedelta(minutes=wait))
        assert "451" in row.last_error
        # Not due a second earlier.
        early = due.run_due(session, row.next_attempt_at - timedelta(seconds=1), settings)
        assert early["mail.sent"] == early["mail.retrying"] == early["mail.failed"] == 0
        moment = row.next_attempt_at
    assert due.run_due(session, moment, settings)["mail.failed"] == 1
    session.refresh(row)
    assert (row.status, row.attempts, row.next_attempt_at) == ("failed", 6, None)
    assert due.run_due(session, moment + timedelta(days=30), settings)["mail.failed"] == 0


def test_an_admin_queues_a_failed_mail_again(session, smtp, make_user):
    smtp.inbox.refuse_with = "550 5.1.1 No such mailbox"
    row = _mail(session)
    settings = _settings(smtp.url)
    assert due.run_due(session, T0, settings)["mail.failed"] == 1  # permanent: no retries
    boss, member = make_user(roles=("admin",)), make_user()
    assert [m.id for m in admin.mail_page(session, boss.id, "failed").mails] == [row.id]
    with pytest.raises(Forbidden):
        admin.retry(session, member.id, row.id)

    smtp.inbox.refuse_with = None
    admin.retry(session, boss.id, row.id)
    session.refresh(row)
    assert (row.status, row.attempts) == ("queued", 0)
    due.run_due(session, T0 + timedelta(minutes=1), settings)
    session.refresh(row)
    assert row.status == "sent"
    assert len(smtp.inbox.to("ann@example.test")) == 1
    with pytest.raises(InvalidState):
        admin.retry(session, boss.id, row.id)  # sent is done


def test_a_server_that_is_down_is_tried_again(session):
    row = _mail(session)
    closed = _settings(f"smtp://127.0.0.1:{free_port()}")
    assert due.run_due(session, T0, closed)["mail.retrying"] == 1
    session.refresh(row)
    assert row.status == "queued" and "Connection" in row.last_error


def test_a_claimed_mail_is_not_claimed_again_until_its_lease_runs_out(session):
    row = _mail(session)
    assert delivery.claim_next(session, T0).id == row.id
    assert delivery.claim_next(session, T0) is None  # a second worker finds nothing
    assert delivery.claim_next(session, T0 + rules.LEASE - timedelta(seconds=1)) is None
    again = delivery.claim_next(session, T0 + rules.LEASE)  # the first worker died
    assert again.id == row.id and again.attempts == 2


def test_without_a_transport_nothing_leaves(session):
    install(None)
    _mail(session)
    assert "mail.sent" not in due.run_due(session, T0)


def test_smtp_urls():
    assert parse_smtp_url("smtps://u%40x:p%3Aw@mail.example").port == 465
    target = parse_smtp_url("smtps://u%40x:p%3Aw@mail.example")
    assert (target.username, target.password) == ("u@x", "p:w")
    assert parse_smtp_url("smtp+starttls://mail.example").port == 587
    assert parse_smtp_url("smtp://127.0.0.1:2525").port == 2525
    with pytest.raises(ValueError):
        parse_smtp_url("http://mail.example")


def test_production_refuses_to_start_without_a_mail_server():
    from p2pbank.audit.note import generate_signer

    production = {
        "ENV": "production",
        "SECRET_KEY": "s" * 40,
        "DATABASE_URL": "sqlite://",
        "AUDIT_SIGNING_KEY": generate_signer("p2pbank.example/log").skey,
        "BASE_URL": "https://p2pbank.example",
    }
    with pytest.raises(ConfigError, match="SMTP_URL must be set"):
        Config(**production).finish()
    with pytest.raises(ConfigError, match="SMTP_URL looks like"):
        Config(**production, SMTP_URL="mail.example:25").finish()
    ready = Config(**production, SMTP_URL="smtps://u:p@mail.example").finish()
    assert ready.MAIL_FROM == "p2pbank <no-reply@p2pbank.example>"


def test_a_subject_on_two_lines_leaves_on_one_and_a_bad_address_fails_alone(session, smtp):
    odd = _mail(session, subject="Your pledge to “Street oven”\nwas charged: € 60,00 — thank you")
    bad = _mail(session, to="broken\n@example.test")
    due.run_due(session, T0, _settings(smtp.url))
    session.refresh(odd)
    session.refresh(bad)
    assert odd.status == "sent" and bad.status == "failed" and "unsendable" in bad.last_error
    (message,) = smtp.inbox.to("ann@example.test")
    assert message["Subject"] == "Your pledge to “Street oven” was charged: € 60,00 — thank you"
