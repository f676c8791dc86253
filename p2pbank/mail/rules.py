"""When to try a mail again: pure rules, no I/O.

A failed attempt waits 1, 4, 16, 64, then 256 minutes; after the sixth attempt the mail
is `failed` and waits for an admin. A claimed mail is leased for a while, so a worker that
dies mid-send does not hold it for ever (and the mail is tried again after the lease).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

BACKOFF_MINUTES = (1, 4, 16, 64, 256)
MAX_ATTEMPTS = len(BACKOFF_MINUTES) + 1
LEASE = timedelta(minutes=10)

QUEUED, SENT, FAILED = "queued", "sent", "failed"
STATUSES = (QUEUED, SENT, FAILED)


@dataclass(frozen=True)
class Next:
    """What becomes of a mail after an attempt failed."""

    status: str
    next_attempt_at: datetime | None


def after_failure(attempts: int, now: datetime, permanent: bool = False) -> Next:
    """`attempts` counts the attempt that just failed. A permanent refusal (the server
    said 5xx) is not worth retrying."""
    if permanent or attempts >= MAX_ATTEMPTS:
        return Next(FAILED, None)
    wait = BACKOFF_MINUTES[max(attempts, 1) - 1]
    return Next(QUEUED, now + timedelta(minutes=wait))


def may_retry(status: str) -> bool:
    """An admin may send a failed mail again, or hurry a queued one; a sent one is done."""
    return status in (QUEUED, FAILED)


_BREAKS = re.compile(r"\s*[\r\n]+\s*")


def one_line(text: str) -> str:
    """A header on one line, whatever the caller wrote (a title with a line break)."""
    return _BREAKS.sub(" ", text).strip()
