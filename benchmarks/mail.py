"""Mail delivery and notifications: what the scheduled mail work costs.

1. `notify` inside a command (one notification, settings read): microseconds per call.
2. The mail work turning pending notifications into outbox rows (rendered in each
   reader's language): rows per second.
3. Delivery to a real SMTP server on this machine (aiosmtpd), one connection per mail as
   shipped, with the claim (lease) and the outcome each in their own transaction: mails
   per second, with 1 and with 4 workers (4 only on PostgreSQL: SQLite has one writer).

Run: python benchmarks/mail.py [mails] over a freshly migrated SQLite database, or with
DATABASE_URL=postgresql://... against that database (its tables must exist).
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import delete  # noqa: E402

from p2pbank.db import make_engine, make_sessionmaker  # noqa: E402
from p2pbank.identity import passwords, services  # noqa: E402
from p2pbank.identity.models import OutboxMail, User  # noqa: E402
from p2pbank.mail import delivery, notices  # noqa: E402
from p2pbank.mail.transport import MailSettings, SmtpTransport  # noqa: E402
from p2pbank.migrate import upgrade  # noqa: E402
from p2pbank.notifications.models import Notification  # noqa: E402
from p2pbank.notifications.services import notify  # noqa: E402
from p2pbank.uow import command  # noqa: E402
from tests.smtp_server import SmtpServer  # noqa: E402

PASSWORD = "quiet-lantern-orbit-7731"  # noqa: S105 -- a throwaway benchmark account
PARAMS = {"amount_minor": 1_234, "currency": "EUR", "loan_id": 7}


def _deliver(make, settings, workers: int) -> float:
    moment = datetime.now(UTC)
    barrier = threading.Barrier(workers)

    def work() -> None:
        with make() as s:
            barrier.wait()
            while sum(delivery.deliver_due(s, settings, moment).values()):
                pass

    threads = [threading.Thread(target=work) for _ in range(workers)]
    t0 = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - t0


def main() -> None:
    mails = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    passwords.set_cost(passwords.TEST_COST)
    with tempfile.TemporaryDirectory() as folder:
        url = os.environ.get("DATABASE_URL") or f"sqlite:///{folder}/bench.sqlite3"
        if url.startswith("sqlite"):
            upgrade(url)
        make = make_sessionmaker(make_engine(url))
        with make() as session:
            user = services.sign_up(
                session,
                email=f"bench-{time.time_ns()}@example.test",
                display_name="Bench",
                password=PASSWORD,
            )
            t0 = time.perf_counter()
            with command(session):
                for _ in range(mails):
                    notify(session, user.id, "repayment_received", PARAMS, "/lending/lend")
                session.flush()
            per_notify = (time.perf_counter() - t0) / mails * 1e6
            print(f"notify (flush-only, 1 commit) {per_notify:7.1f} us per notification")
            t0 = time.perf_counter()
            written = 0
            while done := notices.queue_notification_mail(session, "http://127.0.0.1:5000"):
                written += done
            rate = written / (time.perf_counter() - t0)
            print(f"notification -> outbox row   {rate:8.0f} rows/s ({written} rows)")
        for workers in (1, 4) if not url.startswith("sqlite") else (1,):
            with make() as session:
                session.add_all(
                    OutboxMail(to_address=f"b{n}@example.test", subject="bench", body="x")
                    for n in range(mails)
                )
                session.commit()
            with SmtpServer() as server:
                settings = MailSettings(SmtpTransport(server.url), "bench <b@x.test>", "http://x")
                seconds = _deliver(make, settings, workers)
                got = len(server.inbox.messages)
                distinct = len({m["Message-ID"] for m in server.inbox.messages})
            expected = mails + (written if workers == 1 else 0)  # the first run sends both
            print(
                f"SMTP delivery, {workers} worker(s)   {got / seconds:8.0f} mails/s "
                f"({got} of {expected} queued delivered, {distinct} distinct)"
            )
        with make() as session:  # leave a shared database as it was
            session.execute(delete(OutboxMail).where(OutboxMail.to_address.like("b%@example.test")))
            session.execute(delete(OutboxMail).where(OutboxMail.to_address == user.email))
            session.execute(delete(Notification).where(Notification.user_id == user.id))
            session.execute(delete(User).where(User.id == user.id))
            session.commit()


if __name__ == "__main__":
    main()
