"""Adapters from the domains' scans and unit functions to the scheduler's shapes.

Every function here is named in `p2pbank.scheduling.KINDS` and takes the scheduler's
`Context` as its last argument: scans `(session, now, ctx) -> [ids]`, units
`(session, id, now, ctx) -> counts`, batches `(session, now, ctx) -> counts`. They only
rename counts and pick the gateway or signer; the work itself is the domains'.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from p2pbank.audit.note import Signer
from p2pbank.payments.gateway import PaymentGateway


@dataclass
class Context:
    """What some kinds of work need besides the database. `payment_gateway` None: the
    payments kinds do not run (production without Stripe); `audit_signer` None: no
    checkpoint is signed; `card_gateway` None: crowdfunding makes the environment's."""

    payment_gateway: PaymentGateway | None = None
    audit_signer: Signer | None = None
    card_gateway: PaymentGateway | None = None


def _card_gateway(session: Session, ctx: Context) -> PaymentGateway:
    if ctx.card_gateway is None:
        from p2pbank.payments.settings import PaymentSettings, make_gateway

        ctx.card_gateway = make_gateway(session, PaymentSettings.from_mapping(os.environ))
    return ctx.card_gateway


# --- crowdfunding ---------------------------------------------------------------------


def card_setups(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    from p2pbank.crowdfunding.collection import expire_card_setups

    return {"crowdfunding.card_setups_expired": expire_card_setups(session)}


def deadlines(session: Session, now: datetime, ctx: Context) -> list[int]:
    from p2pbank.crowdfunding.due import deadlines_due

    return deadlines_due(session)


def close_campaign(session: Session, campaign_id: int, now: datetime, ctx: Context) -> dict:
    from p2pbank.crowdfunding.due import close_at_deadline

    return {"crowdfunding.closed": close_at_deadline(session, campaign_id).get("closed", 0)}


def cards(session: Session, now: datetime, ctx: Context) -> list[int]:
    from p2pbank.crowdfunding.due import cards_to_charge

    return cards_to_charge(session)


def charge_card(session: Session, pledge_id: int, now: datetime, ctx: Context) -> dict:
    from p2pbank.crowdfunding.due import charge_card as charge

    counts = charge(session, pledge_id, gateway=_card_gateway(session, ctx))
    return {
        "crowdfunding.cards_charged": counts.get("charged", 0),
        "crowdfunding.cards_declined": counts.get("declined", 0),
    }


def drop_pledges(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    from p2pbank.crowdfunding.collection import drop_unfixed_pledges

    return {"crowdfunding.pledges_dropped": drop_unfixed_pledges(session)}


def collecting(session: Session, now: datetime, ctx: Context) -> list[int]:
    from p2pbank.crowdfunding.due import campaigns_collecting

    return campaigns_collecting(session)


def finish_campaign(session: Session, campaign_id: int, now: datetime, ctx: Context) -> dict:
    from p2pbank.crowdfunding.due import finish_campaign as finish

    counts = finish(session, campaign_id)
    return {
        "crowdfunding.finished": counts.get("finished", 0),
        "crowdfunding.problems": counts.get("waits_for_issuer", 0),
    }


def detach_cards(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    from p2pbank.crowdfunding.cards import detach_let_go_cards

    detached, left = detach_let_go_cards(session, gateway=_card_gateway(session, ctx))
    return {"crowdfunding.cards_detached": detached, "crowdfunding.problems": int(left > 0)}


def overdue_rewards(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    from p2pbank.crowdfunding.delivery import flag_overdue_deliveries

    return {"crowdfunding.rewards_overdue": flag_overdue_deliveries(session)}


# --- ledger, payments -----------------------------------------------------------------


def holds(session: Session, now: datetime, ctx: Context) -> list[int]:
    from p2pbank.ledger.holds import holds_due

    return holds_due(session, now)


def expire_hold(session: Session, hold_id: int, now: datetime, ctx: Context) -> dict:
    from p2pbank.ledger.holds import expire_hold as expire
    from p2pbank.uow import command

    with command(session):
        return {"ledger.holds_expired": expire(session, hold_id, now)}


def payouts(session: Session, now: datetime, ctx: Context) -> list[int]:
    from p2pbank.payments.due import payouts_to_resend

    assert ctx.payment_gateway is not None
    return payouts_to_resend(session, ctx.payment_gateway, now)


def resend_payout(session: Session, payout_id: int, now: datetime, ctx: Context) -> dict:
    from p2pbank.payments.due import resend_payout as resend

    assert ctx.payment_gateway is not None
    return {"payments.payouts_resent": resend(session, ctx.payment_gateway, payout_id)}


def gateway_events(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    from p2pbank.payments.webhooks import deliver_test_mode_events

    assert ctx.payment_gateway is not None
    delivered = deliver_test_mode_events(session, ctx.payment_gateway)
    return {"payments.events_redelivered": len(delivered)}


# --- trust, audit ----------------------------------------------------------------------


def integrate_leaves(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    from p2pbank.audit import sequencer

    return {"audit.leaves_integrated": sequencer.integrate_queued(session, now)}


def sign_checkpoint(session: Session, now: datetime, ctx: Context) -> dict[str, int]:
    """Sign a checkpoint covering everything integrated so far (1 when a new one was
    signed, 0 when the log had not grown since the latest)."""
    from p2pbank.audit import queries, services

    signer = ctx.audit_signer
    assert signer is not None
    before = queries.latest_checkpoint(session, key_id=signer.key_id.hex())
    signed = services.sign_checkpoint(session, signer, signer.name)
    return {"audit.checkpoints_signed": int(before is None or before.id != signed.id)}
