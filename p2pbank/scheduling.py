"""The registry of scheduled work: every kind of due work, how to find its units and how
to do one. `flask tick` runs it in process (`run_in_process`, in this order); the Celery
tasks (`p2pbank.tasks`) run it spread over workers: beat triggers each kind's scan on its
own schedule, the scan enqueues one task per unit.

A kind is a *unit* kind (a scan returning ids, a unit function doing one id in its own
transaction, idempotent: the state machine makes a second run a no-op and idempotency
keys refuse a second posting) or a *batch* kind (one function doing it all, for work with
no natural unit: matching, trust scores, the trust-log sequencer, checkpoints).

Functions are named "module:function" and imported when first used, so the registry costs
nothing to import and a kind is one line. Functions take `(session, now)` (scans, batches)
or `(session, id, now)` (units), each with the `Context` last when `context=True`.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from p2pbank import clock
from p2pbank.due_units import Context

__all__ = ["KINDS", "Context", "Kind", "by_name", "run_batch", "run_in_process", "run_unit"]

_U = "p2pbank.due_units"
_L = "p2pbank.lending.due"


@dataclass(frozen=True)
class Kind:
    name: str
    run: str  # batch: "module:function"; unit kind: the unit function
    scan: str = ""  # unit kinds: "module:function" returning the ids due
    every: float = 60.0  # seconds between two scans by beat
    claims: str = ""  # "module:Model": the row a unit claims (FOR UPDATE SKIP LOCKED)
    keys: tuple[str, ...] = ()  # counts always reported, 0 when nothing was done
    prefix: str = ""  # put before the names of the counts the function returns
    context: bool = False  # the batch function takes the Context too
    needs: str = ""  # "payment_gateway" or "audit_signer": skipped without it
    frozen_clock: bool = False  # the domain reads clock.now(): freeze it at `now`
    problems: str = ""  # in process, a failing unit counts here instead of raising

    @property
    def is_batch(self) -> bool:
        return not self.scan

    def available(self, ctx: Context) -> bool:
        return not self.needs or getattr(ctx, self.needs) is not None


_CF = ("crowdfunding.problems",)
_LENDING = dict(prefix="lending.", claims="p2pbank.lending.models:LoanRequest")
_CROWD = dict(frozen_clock=True, problems="crowdfunding.problems")

# In process in this order (the trust scores see the day's events; the checkpoint, last,
# covers everything above). Another kind is one line: a batch such as "mail.send" below,
# whose function is run_due(session, now) -> dict[str, int].
KINDS: tuple[Kind, ...] = (
    Kind(
        "lending.listings",
        f"{_L}:end_listing",
        f"{_L}:listings_to_end",
        every=60,
        keys=("lending.listings_expired", "lending.awaiting_acceptance"),
        **_LENDING,
    ),
    Kind(
        "lending.acceptances",
        f"{_L}:lapse_acceptance",
        f"{_L}:acceptances_lapsed",
        every=60,
        **_LENDING,
    ),
    Kind(
        "lending.instalments",
        f"{_L}:collect_loan",
        f"{_L}:loans_due",
        every=30,
        prefix="lending.",
        claims="p2pbank.lending.models:Loan",
        keys=("lending.repayments", "lending.late_fees", "lending.defaults"),
    ),
    Kind(
        "lending.recoveries",
        f"{_L}:recover_loan",
        f"{_L}:loans_to_recover",
        every=300,
        prefix="lending.",
        claims="p2pbank.lending.models:Loan",
        keys=("lending.recoveries",),
    ),
    Kind(
        "lending.rematch",
        f"{_L}:rematch",
        every=60,
        prefix="lending.",
        keys=("lending.loans_issued",),
    ),
    Kind("resale", "p2pbank.resale.services:run_due_resale", every=60, prefix="resale."),
    Kind(
        "crowdfunding.card_setups",
        f"{_U}:card_setups",
        every=60,
        context=True,
        keys=("crowdfunding.card_setups_expired",),
        **_CROWD,
    ),
    Kind(
        "crowdfunding.deadlines",
        f"{_U}:close_campaign",
        f"{_U}:deadlines",
        every=30,
        context=True,
        claims="p2pbank.crowdfunding.models:Campaign",
        keys=("crowdfunding.closed", *_CF),
        **_CROWD,
    ),
    Kind(
        "crowdfunding.cards",
        f"{_U}:charge_card",
        f"{_U}:cards",
        every=60,
        context=True,
        claims="p2pbank.crowdfunding.models:Pledge",
        keys=("crowdfunding.cards_charged", "crowdfunding.cards_declined"),
        **_CROWD,
    ),
    Kind(
        "crowdfunding.drop",
        f"{_U}:drop_pledges",
        every=300,
        context=True,
        keys=("crowdfunding.pledges_dropped",),
        **_CROWD,
    ),
    Kind(
        "crowdfunding.collecting",
        f"{_U}:finish_campaign",
        f"{_U}:collecting",
        every=30,
        context=True,
        claims="p2pbank.crowdfunding.models:Campaign",
        keys=("crowdfunding.finished",),
        **_CROWD,
    ),
    Kind(
        "crowdfunding.detach",
        f"{_U}:detach_cards",
        every=300,
        context=True,
        keys=("crowdfunding.cards_detached",),
        **_CROWD,
    ),
    Kind(
        "crowdfunding.overdue",
        f"{_U}:overdue_rewards",
        every=3600,
        context=True,
        keys=("crowdfunding.rewards_overdue",),
        **_CROWD,
    ),
    Kind(
        "ledger.holds",
        f"{_U}:expire_hold",
        f"{_U}:holds",
        every=60,
        context=True,
        keys=("ledger.holds_expired",),
    ),
    Kind(
        "payments.payouts",
        f"{_U}:resend_payout",
        f"{_U}:payouts",
        every=120,
        context=True,
        claims="p2pbank.payments.models:Payout",
        needs="payment_gateway",
    ),
    Kind(
        "payments.events", f"{_U}:gateway_events", every=30, context=True, needs="payment_gateway"
    ),
    Kind("lending.reminders", "p2pbank.lending.reminders:run_due", every=3600),
    # The outbox: notifications become mail, then mail is delivered (retries with back-off).
    Kind("mail.send", "p2pbank.mail.due:run_due", every=30),
    Kind("trust.recompute", "p2pbank.trust.refresh:recompute_trust", every=600),
    Kind("audit.sequencer", f"{_U}:integrate_leaves", every=2, context=True),
    Kind(
        "audit.checkpoint", f"{_U}:sign_checkpoint", every=300, context=True, needs="audit_signer"
    ),
)


def by_name(name: str) -> Kind:
    for kind in KINDS:
        if kind.name == name:
            return kind
    raise KeyError(f"no scheduled work called {name!r}")


def resolve(target: str) -> Any:
    module, _, attribute = target.partition(":")
    return getattr(importlib.import_module(module), attribute)


@contextmanager
def _clock_for(kind: Kind, now: datetime) -> Iterator[None]:
    frozen = kind.frozen_clock and clock.now() != now
    with clock.frozen_at(now) if frozen else nullcontext():
        yield


def _named(kind: Kind, counts: dict[str, int] | None) -> dict[str, int]:
    return {f"{kind.prefix}{name}": count for name, count in (counts or {}).items()}


def scan(kind: Kind, session: Session, now: datetime, ctx: Context) -> list[int]:
    """The ids of the units of `kind` due at `now` (a read; nothing is claimed)."""
    with _clock_for(kind, now):
        function = resolve(kind.scan)
        ids = list(function(session, now, ctx) if kind.context else function(session, now))
    session.commit()  # end the reading transaction (nothing written) before units claim rows
    return ids


def run_batch(kind: Kind, session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    function: Callable[..., dict[str, int]] = resolve(kind.run)
    with _clock_for(kind, now):
        counts = function(session, now, ctx) if kind.context else function(session, now)
    return _named(kind, counts)


def claim(session: Session, kind: Kind, unit_id: int) -> bool:
    """Lock the unit's row for this transaction, skipping it if another worker holds it
    (PostgreSQL's FOR UPDATE SKIP LOCKED; SQLite has one writer and ignores the clause).
    False when the row is taken or gone: whoever holds it does the work, or, if it dies,
    its transaction rolls back and its task is delivered again."""
    if not kind.claims:
        return True
    model = resolve(kind.claims)
    stmt = select(model.id).where(model.id == unit_id).with_for_update(skip_locked=True)
    return session.execute(stmt).first() is not None


def run_unit(
    kind: Kind,
    session: Session,
    unit_id: int,
    now: datetime,
    ctx: Context,
    *,
    count_problems: bool = True,
) -> dict[str, int]:
    """Do one unit in its own transaction, after claiming its row. Returns its counts; {}
    when another worker holds the row. A failure rolls back; with `kind.problems` and
    `count_problems` it is counted there, else raised."""
    try:
        with _clock_for(kind, now):
            if not claim(session, kind, unit_id):
                session.rollback()
                return {}
            function = resolve(kind.run)
            args = (session, unit_id, now, ctx) if kind.context else (session, unit_id, now)
            counts = _named(kind, function(*args))
        session.commit()  # a unit that found nothing to do still ends its claim
        return counts
    except Exception:
        session.rollback()
        if kind.problems and count_problems:
            return {kind.problems: 1}
        raise


def run_in_process(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    """Every kind, in order, in this process: what `flask tick` and the tests run. Counts
    by what was done (each kind's `keys` present even at 0)."""
    done: dict[str, int] = {}
    for kind in KINDS:
        if not kind.available(ctx):
            continue
        for key in kind.keys:
            done.setdefault(key, 0)
        if kind.is_batch:
            results = [run_batch(kind, session, now, ctx)]
        else:
            results = [run_unit(kind, session, i, now, ctx) for i in scan(kind, session, now, ctx)]
        for counts in results:
            for name, count in counts.items():
                done[name] = done.get(name, 0) + count
    return done
