"""Several workers deliver the outbox at once on PostgreSQL: each mail leaves once (the
claim is FOR UPDATE SKIP LOCKED plus a conditional lease). Rows are committed for real
and removed afterwards."""

from __future__ import annotations

import threading
from collections import Counter
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from p2pbank.identity.models import OutboxMail
from p2pbank.mail import delivery
from p2pbank.mail.transport import MailSettings, SmtpTransport
from tests.smtp_server import SmtpServer

pytestmark = pytest.mark.postgres_only

MARK = "race-mail"
MAILS = 24
WORKERS = 4


@pytest.fixture
def committed_mail(engine):
    with Session(engine) as s:
        s.add_all(
            OutboxMail(to_address=f"{MARK}{n}@example.test", subject=MARK, body="b")
            for n in range(MAILS)
        )
        s.commit()
    try:
        yield
    finally:
        with Session(engine) as s:
            s.execute(delete(OutboxMail).where(OutboxMail.subject == MARK))
            s.commit()


def test_four_workers_send_each_mail_once(engine, committed_mail):
    moment = datetime.now(UTC)
    with SmtpServer() as server:
        settings = MailSettings(SmtpTransport(server.url), "p2pbank <no-reply@x.test>", "http://x")
        barrier = threading.Barrier(WORKERS)
        sent: list[int] = []

        def work() -> None:
            with Session(engine) as s:
                barrier.wait()
                sent.append(delivery.deliver_due(s, settings, moment)["sent"])

        threads = [threading.Thread(target=work) for _ in range(WORKERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        received = Counter(m["To"] for m in server.inbox.messages if m["Subject"] == MARK)
    assert len(received) == MAILS and set(received.values()) == {1}
    with Session(engine) as s:
        statuses = set(s.scalars(select(OutboxMail.status).where(OutboxMail.subject == MARK)))
    assert statuses == {"sent"}
    assert sum(sent) >= MAILS
