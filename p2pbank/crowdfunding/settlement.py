"""What happens at and after the deadline: decide, collect, pay out or release, refund.

* All-or-nothing, goal reached: wallet holds are captured into `campaign:{id}:escrow`;
  saved cards are charged off-session, one command per pledge, each with its own
  idempotency key; a declined card puts the pledge in `errored` and the backer has 7 days
  to fix it. The campaign is `collecting` until every pledge is collected or dropped;
  then the escrow pays the initiator minus the platform fee and the processing fees.
* All-or-nothing, goal missed: every hold released, every card let go, backers told.
* Keep-it-all: whatever was pledged is collected and paid out.
* Loan campaigns wait in `collecting` until the last reflection period is over, then
  decide on what is left, and issue the loan (see loans.py).

Each public function is one command with one commit. `run_due` is the job's step and calls
them in turn, so a crash between two of them loses nothing: the next run carries on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from p2pbank.clock import now
from p2pbank.crowdfunding import rules
from p2pbank.crowdfunding.events import emit_event, open_ratings
from p2pbank.crowdfunding.kernel import get_user, load_campaign, mail, people
from p2pbank.crowdfunding.loans import LoanIssuer, settle_loan_campaign
from p2pbank.crowdfunding.models import (
    Campaign,
    CampaignStatus,
    EventKind,
    Payout,
    Pledge,
    PledgeChange,
    PledgeStatus,
)
from p2pbank.crowdfunding.pledging import free_slot
from p2pbank.crowdfunding.services import release_open_pledges
from p2pbank.errors import Forbidden, InvalidState, NotFound
from p2pbank.identity.models import Role
from p2pbank.ledger import holds
from p2pbank.ledger import services as ledger
from p2pbank.ledger.models import AccountType
from p2pbank.money import Money
from p2pbank.payments.gateway import (
    GatewayError,
    IntentStatus,
    PaymentGateway,
)
from p2pbank.payments.services import GATEWAY_FEES
from p2pbank.uow import command

# What the card processor keeps: the payments domain's expense account, recovered from the
# escrow at the payout (so the initiator bears the processing fees of their campaign).
CARD_FEES = GATEWAY_FEES
ENTRY_REF = "crowdfunding_pledge"


def card_fees_code(currency: str) -> str:
    return CARD_FEES if currency == "EUR" else f"{CARD_FEES}:{currency}"


def ensure_card_fees_account(session: Session, currency: str) -> None:
    ledger.ensure_account(
        session, card_fees_code(currency), type=AccountType.EXPENSE, currency=currency
    )


def clearing_code(currency: str) -> str:
    base = ledger.PLATFORM_GATEWAY_CLEARING
    return base if currency == "EUR" else f"{base}:{currency}"


def _ensure_clearing(session: Session, currency: str) -> None:
    if currency == "EUR":
        ledger.ensure_platform_account(session, ledger.PLATFORM_GATEWAY_CLEARING, currency)
    else:
        ledger.ensure_account(
            session, clearing_code(currency), type=AccountType.ASSET, currency=currency
        )


def _ensure_fees_income(session: Session, currency: str) -> str:
    if currency == "EUR":
        ledger.ensure_platform_account(session, ledger.PLATFORM_FEES, currency)
        return ledger.PLATFORM_FEES
    code = f"{ledger.PLATFORM_FEES}:{currency}"
    ledger.ensure_account(session, code, type=AccountType.INCOME, currency=currency)
    return code


def _pledges(session: Session, campaign_id: int, *statuses: PledgeStatus) -> list[Pledge]:
    return list(
        session.scalars(
            select(Pledge)
            .where(Pledge.campaign_id == campaign_id, Pledge.status.in_(statuses))
            .order_by(Pledge.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )


def _sum(pledges: list[Pledge]) -> int:
    return sum(p.amount_minor for p in pledges)


# --- at the deadline -----------------------------------------------------------------------------


def close_campaign(
    session: Session, campaign_id: int, *, loan_issuer: LoanIssuer | None = None
) -> Campaign:
    """Decide a live campaign whose deadline has come (a no-op before it, or twice)."""
    with command(session):
        campaign = load_campaign(session, campaign_id, lock="update")
        if campaign.status != CampaignStatus.LIVE or now() < campaign.deadline_at:
            return campaign
        moment = now()
        campaign.closed_at = moment
        # A card pledge whose card was never saved was never a pledge.
        for row in _pledges(session, campaign.id, PledgeStatus.AWAITING_CARD):
            row.move_to(PledgeStatus.RELEASED)
            row.released_at = moment
            row.release_reason = "card_not_saved"
        pending = _pledges(session, campaign.id, PledgeStatus.PENDING)
        if not rules.is_funded(campaign.funding_model, _sum(pending), campaign.goal_minor):
            _fail(session, campaign, reason="goal_missed")
            return campaign
        campaign.move_to(CampaignStatus.COLLECTING)
        if not campaign.is_loan:
            for row in pending:
                if row.method == rules.PayMethod.WALLET:
                    _capture_wallet(session, campaign, row)
        _finish_if_done(session, campaign, loan_issuer)
    return campaign


def _capture_wallet(session: Session, campaign: Campaign, row: Pledge) -> None:
    holds.capture_hold(
        session,
        row.hold_ref,
        to_code=campaign.escrow_code,
        idempotency_key=f"crowdfunding:pledge:{row.id}:capture",
        kind="pledge_capture",
        memo=f"Pledge {row.id} to campaign {campaign.id}",
    )
    _collected(session, campaign, row, fee_minor=0)


def _collected(session: Session, campaign: Campaign, row: Pledge, *, fee_minor: int) -> None:
    row.move_to(PledgeStatus.COLLECTED)
    row.collected_at = now()
    row.processing_fee_minor = fee_minor
    row.fix_until = None
    row.error_message = ""
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.PLEDGE_COLLECTED,
        subject_id=row.backer_id,
        pledge_id=row.id,
        amount_minor=row.amount_minor,
        dedup_key=str(row.id),
    )


def _fail(session: Session, campaign: Campaign, *, reason: str) -> None:
    """Nothing is charged: open pledges are released, backers and initiator told."""
    moment = now()
    backers = release_open_pledges(session, campaign, reason="campaign_failed")
    campaign.move_to(CampaignStatus.FAILED)
    campaign.closed_at = campaign.closed_at or moment
    campaign.finished_at = moment
    for backer in people(session, {p.backer_id for p in backers}):
        mail(
            session,
            backer,
            f"{campaign.title} did not reach its goal",
            f'"{campaign.title}" did not reach its goal, so nobody is charged. Money held '
            "in your wallet for it is available again; your saved card will not be used.",
        )
    initiator = get_user(session, campaign.initiator_id)
    mail(
        session,
        initiator,
        f"{campaign.title} ended without reaching its goal",
        "Your campaign did not reach its goal. No backer was charged and no fee is due.",
    )
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.FAILED,
        subject_id=campaign.initiator_id,
        detail=reason,
        dedup_key=str(campaign.id),
    )
    session.flush()


def _outstanding(session: Session, campaign: Campaign, moment: datetime) -> bool:
    """Is anything still to be settled before the campaign can finish?"""
    if campaign.is_loan:
        revocable = session.scalar(
            select(func.count(Pledge.id)).where(
                Pledge.campaign_id == campaign.id,
                Pledge.status == PledgeStatus.PENDING,
                Pledge.revocable_until > moment,
            )
        )
        return bool(revocable)
    open_count = session.scalar(
        select(func.count(Pledge.id)).where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.PENDING, PledgeStatus.ERRORED]),
        )
    )
    return bool(open_count)


def _finish_if_done(
    session: Session, campaign: Campaign, loan_issuer: LoanIssuer | None = None
) -> None:
    moment = now()
    if campaign.status != CampaignStatus.COLLECTING or _outstanding(session, campaign, moment):
        return
    if campaign.is_loan:
        pending = _pledges(session, campaign.id, PledgeStatus.PENDING)
        if _sum(pending) < campaign.goal_minor:
            _fail(session, campaign, reason="revoked_below_goal")
            return
        if loan_issuer is None:
            return  # funded; waits until loans can be issued
        settle_loan_campaign(session, campaign, pending, loan_issuer)
        _succeeded(session, campaign)
        return
    collected = session.scalar(
        select(func.count(Pledge.id)).where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.COLLECTED, PledgeStatus.REFUNDED]),
        )
    )
    if not collected:
        _fail(session, campaign, reason="nothing_collected")
        return
    pay_out(session, campaign)
    _succeeded(session, campaign)


def _succeeded(session: Session, campaign: Campaign) -> None:
    campaign.move_to(CampaignStatus.SUCCEEDED)
    campaign.finished_at = now()
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.SUCCEEDED,
        subject_id=campaign.initiator_id,
        dedup_key=str(campaign.id),
    )
    backer_ids = set(
        session.scalars(
            select(Pledge.backer_id).where(
                Pledge.campaign_id == campaign.id, Pledge.status == PledgeStatus.COLLECTED
            )
        )
    )
    for backer in people(session, backer_ids):
        mail(
            session,
            backer,
            f"{campaign.title} is funded",
            f'"{campaign.title}" reached its goal and your pledge was collected. Thank you!',
        )
    rewardless = select(Pledge.backer_id).where(
        Pledge.campaign_id == campaign.id,
        Pledge.status == PledgeStatus.COLLECTED,
        Pledge.tier_id.is_(None),
    )
    open_ratings(session, campaign, session.scalars(rewardless))  # rewards: when delivered
    session.flush()


def pay_out(session: Session, campaign: Campaign) -> Payout:
    """Empty the escrow in one entry: platform fee, processing fees, the rest to the
    initiator's wallet. Flushes only (part of finishing a campaign)."""
    counted = session.execute(
        select(
            Pledge.status,
            func.coalesce(func.sum(Pledge.amount_minor), 0),
            func.coalesce(func.sum(Pledge.processing_fee_minor), 0),
        )
        .where(
            Pledge.campaign_id == campaign.id,
            Pledge.status.in_([PledgeStatus.COLLECTED, PledgeStatus.REFUNDED]),
        )
        .group_by(Pledge.status)
    ).all()
    collected = sum(int(amount) for _, amount, _ in counted)
    refunded = sum(int(amount) for status, amount, _ in counted if status == PledgeStatus.REFUNDED)
    processing = sum(int(fee) for _, _, fee in counted)
    gross = collected - refunded
    escrow = ledger.find_account(session, campaign.escrow_code)
    if escrow is None or escrow.posted_minor != gross or escrow.held_minor:
        raise InvalidState(f"campaign {campaign.id}: the escrow does not match the pledges")
    split = rules.payout_split(gross, campaign.platform_fee_bps, processing)
    entry_id = None
    if gross:
        ledger.ensure_wallet(session, campaign.initiator_id, campaign.currency)
        fees_code = _ensure_fees_income(session, campaign.currency)
        legs = [
            (campaign.escrow_code, -gross),
            (ledger.wallet_code(campaign.initiator_id, campaign.currency), split.net_minor),
            (fees_code, split.platform_fee_minor),
        ]
        if split.processing_fee_minor:
            ensure_card_fees_account(session, campaign.currency)
            legs.append((card_fees_code(campaign.currency), split.processing_fee_minor))
        entry = ledger.post_entry(
            session,
            postings=[(code, amount) for code, amount in legs if amount],
            currency=campaign.currency,
            kind="crowdfunding_payout",
            idempotency_key=f"crowdfunding:campaign:{campaign.id}:payout",
            ref_type="crowdfunding_campaign",
            ref_id=campaign.id,
            memo=f"Payout of campaign {campaign.id}",
        )
        entry_id = entry.id
    payout = Payout(
        campaign_id=campaign.id,
        currency=campaign.currency,
        collected_minor=collected,
        refunded_minor=refunded,
        gross_minor=gross,
        platform_fee_bps=campaign.platform_fee_bps,
        platform_fee_minor=split.platform_fee_minor,
        processing_fee_minor=split.processing_fee_minor,
        absorbed_minor=split.absorbed_minor,
        net_minor=split.net_minor,
        entry_ref=entry_id,
        paid_at=now(),
    )
    session.add(payout)
    money = Money  # shorter lines below
    initiator = get_user(session, campaign.initiator_id)
    mail(
        session,
        initiator,
        f"{campaign.title}: payout statement",
        "\n".join(
            [
                f"Collected: {money(collected, campaign.currency)}",
                f"Refunded: {money(refunded, campaign.currency)}",
                f"Platform fee ({campaign.platform_fee_bps / 100:g} %): "
                f"{money(split.platform_fee_minor, campaign.currency)}",
                f"Card processing fees: {money(split.processing_fee_minor, campaign.currency)}",
                f"Paid to your wallet: {money(split.net_minor, campaign.currency)}",
            ]
        ),
    )
    emit_event(
        session,
        campaign_id=campaign.id,
        kind=EventKind.PAID_OUT,
        subject_id=campaign.initiator_id,
        amount_minor=split.net_minor,
        dedup_key=str(campaign.id),
    )
    session.flush()
    return payout


# --- cards ----------------------------------------------------------------------------------------


def collect_card_pledge(session: Session, pledge_id: int, *, gateway: PaymentGateway) -> Pledge:
    """Charge one saved card off-session. Declined: the pledge is `errored` and the backer
    has 7 days from the first failure to fix the card. The idempotency key changes only
    after an answer was recorded, so a retry after a crash can never charge twice."""
    with command(session):
        row = session.scalar(
            select(Pledge)
            .where(Pledge.id == pledge_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise NotFound("No such pledge.")
        campaign = load_campaign(session, row.campaign_id, lock="share")
        if campaign.status != CampaignStatus.COLLECTING:
            raise InvalidState("The campaign is not collecting pledges.")
        if row.method != rules.PayMethod.CARD or row.status not in (
            PledgeStatus.PENDING,
            PledgeStatus.ERRORED,
        ):
            raise InvalidState("This pledge is not waiting for a card charge.")
        moment = now()
        if row.status == PledgeStatus.ERRORED and moment >= row.fix_until:
            raise InvalidState("The 7 days to fix the card are over.")
        attempt = row.charge_attempts + 1
        amount = Money(row.amount_minor, row.currency)
        try:
            payment = gateway.charge_saved_card(
                customer_id=row.customer_ref,
                card_id=row.saved_card_ref,
                amount=amount,
                reference={"pledge_id": str(row.id), "campaign_id": str(campaign.id)},
                idempotency_key=f"crowdfunding-pledge-{row.id}-charge-{attempt}",
            )
        except GatewayError as exc:  # CardDeclined, or the saved card is unusable
            _errored(session, campaign, row, attempt, exc.detail)
            return row
        row.charge_attempts = attempt
        row.charge_ref = payment.id
        if payment.status == IntentStatus.NEEDS_AUTHENTICATION or payment.failed:
            _errored(
                session,
                campaign,
                row,
                attempt,
                payment.failure_message or "Your bank asks you to confirm this payment.",
            )
            return row
        if payment.status != IntentStatus.SUCCEEDED:
            raise InvalidState("The card charge is still processing; it is retried later.")
        fee = payment.fee.minor if payment.fee is not None else 0
        _book_card_charge(session, campaign, row, fee, payment.id)
        _collected(session, campaign, row, fee_minor=fee)
        _finish_if_done(session, campaign)
    return row


def _book_card_charge(
    session: Session, campaign: Campaign, row: Pledge, fee: int, gateway_ref: str
) -> None:
    """The gateway owes us the amount (clearing) and the escrow holds it; the fee the
    gateway keeps is an expense until the payout recovers it from the escrow."""
    _ensure_clearing(session, row.currency)
    ledger.post_entry(
        session,
        postings=[
            (clearing_code(row.currency), -row.amount_minor),
            (campaign.escrow_code, row.amount_minor),
        ],
        currency=row.currency,
        kind="pledge_capture",
        idempotency_key=f"crowdfunding:pledge:{row.id}:card_charge",
        ref_type=ENTRY_REF,
        ref_id=row.id,
        gateway_ref=gateway_ref,
        memo=f"Card pledge {row.id} to campaign {campaign.id}",
    )
    if fee:
        ensure_card_fees_account(session, row.currency)
        ledger.post_entry(
            session,
            postings=[(card_fees_code(row.currency), -fee), (clearing_code(row.currency), fee)],
            currency=row.currency,
            kind="gateway_fee",
            idempotency_key=f"crowdfunding:pledge:{row.id}:card_fee",
            ref_type=ENTRY_REF,
            ref_id=row.id,
            gateway_ref=gateway_ref,
            memo=f"Card processing fee of pledge {row.id}",
        )


def _errored(session: Session, campaign: Campaign, row: Pledge, attempt: int, message: str) -> None:
    row.charge_attempts = attempt
    row.error_message = (message or "The card was declined.")[:300]
    if row.status == PledgeStatus.PENDING:
        moment = now()
        row.move_to(PledgeStatus.ERRORED)
        row.errored_at = moment
        row.fix_until = moment + rules.CARD_FIX_WINDOW
        backer = get_user(session, row.backer_id)
        mail(
            session,
            backer,
            f"Your card was declined for {campaign.title}",
            f'"{campaign.title}" reached its goal, but your card was declined '
            f"({row.error_message}). You have 7 days to add another card from "
            "'My pledges'; after that the pledge is dropped.",
        )
    session.flush()


def drop_unfixed_pledges(session: Session) -> int:
    """Errored pledges whose 7 days are over are dropped (nothing was charged)."""
    moment = now()
    with command(session):
        rows = list(
            session.scalars(
                select(Pledge)
                .where(Pledge.status == PledgeStatus.ERRORED, Pledge.fix_until <= moment)
                .order_by(Pledge.id)
                .with_for_update()
            )
        )
        for row in rows:
            row.move_to(PledgeStatus.DROPPED)
            row.fix_until = None
            row.released_at = moment
            row.release_reason = "card_not_fixed"
            session.add(
                PledgeChange(
                    campaign_id=row.campaign_id,
                    pledge_id=row.id,
                    delta_minor=-row.amount_minor,
                    reason="dropped",
                )
            )
            emit_event(
                session,
                campaign_id=row.campaign_id,
                kind=EventKind.PLEDGE_DROPPED,
                subject_id=row.backer_id,
                pledge_id=row.id,
                amount_minor=row.amount_minor,
                dedup_key=str(row.id),
            )
            mail(
                session,
                get_user(session, row.backer_id),
                "Your pledge was dropped",
                "Your card could not be charged within 7 days, so your pledge was dropped. "
                "Nothing was charged.",
            )
        session.flush()
    return len(rows)


def finish_collecting(
    session: Session, campaign_id: int, *, loan_issuer: LoanIssuer | None = None
) -> Campaign:
    """Pay out (or fail) a collecting campaign once nothing is outstanding; a loan
    campaign once the last reflection period is over."""
    with command(session):
        campaign = load_campaign(session, campaign_id, lock="update")
        if campaign.status == CampaignStatus.COLLECTING:
            _finish_if_done(session, campaign, loan_issuer)
    return campaign


def expire_card_setups(session: Session) -> int:
    """Card pledges whose card was not saved in time are let go and free their reward."""
    moment = now()
    with command(session):
        rows = list(
            session.scalars(
                select(Pledge)
                .where(
                    Pledge.status == PledgeStatus.AWAITING_CARD,
                    Pledge.setup_expires_at <= moment,
                )
                .order_by(Pledge.id)
                .with_for_update()
            )
        )
        for row in rows:
            row.move_to(PledgeStatus.RELEASED)
            row.released_at = moment
            row.release_reason = "card_not_saved"
            if row.tier_id is not None:
                free_slot(session, row.tier_id)
        session.flush()
    return len(rows)


# --- refunds -------------------------------------------------------------------------------


def refund_pledge(
    session: Session, actor_id: int, pledge_id: int, *, gateway: PaymentGateway | None = None
) -> Pledge:
    """The initiator gives a collected pledge back before the payout: to the wallet, or to
    the card through the gateway. Each refund is one ledger entry."""
    with command(session):
        actor = get_user(session, actor_id)
        row = session.scalar(
            select(Pledge)
            .where(Pledge.id == pledge_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if row is None:
            raise NotFound("No such pledge.")
        campaign = load_campaign(session, row.campaign_id, lock="update")
        if campaign.initiator_id != actor.id:
            if row.backer_id == actor.id or actor.has_role(Role.ADMIN):
                raise Forbidden("Only the campaign's initiator can refund a pledge.")
            raise NotFound("No such pledge.")
        if campaign.status != CampaignStatus.COLLECTING:
            raise InvalidState("Refunds are possible until the payout.")
        if row.status != PledgeStatus.COLLECTED:
            raise InvalidState("Only a collected pledge can be refunded.")
        amount = Money(row.amount_minor, row.currency)
        key = f"crowdfunding:pledge:{row.id}:refund"
        if row.method == rules.PayMethod.WALLET:
            ledger.ensure_wallet(session, row.backer_id, row.currency)
            ledger.transfer(
                session,
                from_code=campaign.escrow_code,
                to_code=ledger.wallet_code(row.backer_id, row.currency),
                amount=amount,
                kind="refund",
                idempotency_key=key,
                ref_type=ENTRY_REF,
                ref_id=row.id,
                memo=f"Refund of pledge {row.id}",
            )
        else:
            if gateway is None:
                raise InvalidState("Card refunds need the payment gateway.")
            refund = gateway.refund_payment(
                row.charge_ref,
                amount=amount,
                reference={"pledge_id": str(row.id), "campaign_id": str(campaign.id)},
                idempotency_key=f"crowdfunding-pledge-{row.id}-refund",
            )
            row.refund_ref = refund.id
            _ensure_clearing(session, row.currency)
            ledger.transfer(
                session,
                from_code=campaign.escrow_code,
                to_code=clearing_code(row.currency),
                amount=amount,
                kind="refund",
                idempotency_key=key,
                ref_type=ENTRY_REF,
                ref_id=row.id,
                gateway_ref=refund.id,
                memo=f"Card refund of pledge {row.id}",
            )
        row.move_to(PledgeStatus.REFUNDED)
        row.refunded_at = now()
        session.add(
            PledgeChange(
                campaign_id=campaign.id,
                pledge_id=row.id,
                delta_minor=-row.amount_minor,
                reason="refunded",
            )
        )
        emit_event(
            session,
            campaign_id=campaign.id,
            kind=EventKind.PLEDGE_REFUNDED,
            subject_id=row.backer_id,
            actor_id=actor.id,
            pledge_id=row.id,
            amount_minor=row.amount_minor,
            dedup_key=str(row.id),
        )
        mail(
            session,
            get_user(session, row.backer_id),
            f"Refund from {campaign.title}",
            f'The initiator of "{campaign.title}" refunded your pledge of {amount}.',
        )
        _finish_if_done(session, campaign)
        session.flush()
    return row


# --- the job -------------------------------------------------------------------------------


@dataclass
class SettlementReport:
    closed: list[int] = field(default_factory=list)
    charged: int = 0
    declined: int = 0
    dropped: int = 0
    finished: list[int] = field(default_factory=list)
    expired_setups: int = 0
    detached: int = 0
    overdue: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        return [
            f"crowdfunding: closed {len(self.closed)} campaign(s), charged {self.charged} "
            f"card(s), {self.declined} declined, dropped {self.dropped}, finished "
            f"{len(self.finished)}, released {self.expired_setups} unsaved card pledge(s), "
            f"detached {self.detached} card(s), {self.overdue} overdue reward(s)",
            *self.problems,
        ]


def run_due(
    session: Session,
    *,
    gateway: PaymentGateway | None,
    loan_issuer: LoanIssuer | None = None,
) -> SettlementReport:
    """The scheduled step (called from p2pbank.jobs.run_due_work): decide campaigns whose
    deadline came, charge saved cards, drop cards not fixed in 7 days, finish what is
    complete, detach cards that will not be charged, flag late rewards. Each piece is its
    own command; a failure in one campaign is reported and does not stop the others."""
    from p2pbank.crowdfunding.cards import detach_let_go_cards
    from p2pbank.crowdfunding.delivery import flag_overdue_deliveries

    report = SettlementReport()
    moment = now()
    report.expired_setups = expire_card_setups(session)
    due = session.scalars(
        select(Campaign.id)
        .where(Campaign.status == CampaignStatus.LIVE, Campaign.deadline_at <= moment)
        .order_by(Campaign.deadline_at, Campaign.id)
    ).all()
    for campaign_id in due:
        try:
            close_campaign(session, campaign_id, loan_issuer=loan_issuer)
            report.closed.append(campaign_id)
        except Exception as exc:  # reported; the other campaigns still settle
            report.problems.append(f"campaign {campaign_id}: {exc}")
    if gateway is not None:
        to_charge = session.scalars(
            select(Pledge.id)
            .join(Campaign, Campaign.id == Pledge.campaign_id)
            .where(
                Campaign.status == CampaignStatus.COLLECTING,
                Pledge.method == rules.PayMethod.CARD,
                Pledge.status == PledgeStatus.PENDING,
            )
            .order_by(Pledge.id)
        ).all()
        for pledge_id in to_charge:
            try:
                row = collect_card_pledge(session, pledge_id, gateway=gateway)
            except Exception as exc:  # e.g. the gateway is down: retried next run
                report.problems.append(f"pledge {pledge_id}: {exc}")
                continue
            if row.status == PledgeStatus.COLLECTED:
                report.charged += 1
            else:
                report.declined += 1
    report.dropped = drop_unfixed_pledges(session)
    collecting = session.scalars(
        select(Campaign.id)
        .where(Campaign.status == CampaignStatus.COLLECTING)
        .order_by(Campaign.id)
    ).all()
    for campaign_id in collecting:
        try:
            campaign = finish_collecting(session, campaign_id, loan_issuer=loan_issuer)
        except Exception as exc:
            report.problems.append(f"campaign {campaign_id}: {exc}")
            continue
        if campaign.status != CampaignStatus.COLLECTING:
            report.finished.append(campaign_id)
        elif campaign.is_loan and loan_issuer is None:
            report.problems.append(f"campaign {campaign_id}: funded; waits for loan issuing")
    if gateway is not None:
        detached, left = detach_let_go_cards(session, gateway=gateway)
        report.detached = detached
        if left:
            report.problems.append(f"{left} saved card(s) wait to be detached by the gateway")
    report.overdue = flag_overdue_deliveries(session)
    return report


def run_due_work(
    session: Session,
    now_at: datetime,
    *,
    gateway: PaymentGateway | None = None,
    loan_issuer: LoanIssuer | None = None,
) -> dict[str, int]:
    """`run_due` at `now_at`, as p2pbank.jobs calls it: counts by what was done. Without a
    gateway, the one the environment configures (test mode unless a Stripe key is set)."""
    import os

    from p2pbank import clock
    from p2pbank.payments.settings import PaymentSettings, make_gateway

    if gateway is None:
        gateway = make_gateway(session, PaymentSettings.from_mapping(os.environ))
    if now() == now_at:
        report = run_due(session, gateway=gateway, loan_issuer=loan_issuer)
    else:
        with clock.frozen_at(now_at):
            report = run_due(session, gateway=gateway, loan_issuer=loan_issuer)
    return {
        "crowdfunding.closed": len(report.closed),
        "crowdfunding.cards_charged": report.charged,
        "crowdfunding.cards_declined": report.declined,
        "crowdfunding.pledges_dropped": report.dropped,
        "crowdfunding.finished": len(report.finished),
        "crowdfunding.card_setups_expired": report.expired_setups,
        "crowdfunding.cards_detached": report.detached,
        "crowdfunding.rewards_overdue": report.overdue,
        "crowdfunding.problems": len(report.problems),
    }
