"""Matrix objects of money: the owner's deposits, payout account, withdrawal and a journal
entry in their wallet."""

from __future__ import annotations

import uuid

from tests.support.matrix.rows import Objects, World
from tests.support.money import deposit
from tests.support.payments import card_deposit


def payments_gateway(world: World):
    """The test-mode gateway, in the world's session."""
    from p2pbank.payments.sandbox_gateway import SandboxGateway

    return SandboxGateway(world.session, webhook_secret="whsec_matrix")


def _owner_deposit(world: World, card: str | None) -> Objects:
    payment = card_deposit(
        world.session,
        payments_gateway(world),
        world.owner.id,
        12_345,
        key=f"matrix-{uuid.uuid4().hex}",
        card=card,
    )
    return Objects(path={"payment_id": payment.id}, private=[payment.gateway_payment_id])


def owner_deposit(world: World) -> Objects:
    """A deposit the owner started and has not paid yet."""
    return _owner_deposit(world, None)


def owner_deposit_needing_authentication(world: World) -> Objects:
    """A deposit whose card asks for authentication (3-D Secure)."""
    return _owner_deposit(world, "4000002760003184")


def owner_paid_deposit(world: World) -> Objects:
    """A deposit the owner paid by card."""
    return _owner_deposit(world, "4242424242424242")


def owner_payout_account(world: World) -> Objects:
    """The owner's payout account at the gateway: its id is private."""

    from p2pbank.payments import payouts

    payouts.onboard_payouts(
        world.session,
        payments_gateway(world),
        world.owner.id,
        refresh_url="http://x/r",
        return_url="http://x/b",
    )
    account = payouts.refresh_payout_account(world.session, payments_gateway(world), world.owner.id)
    return Objects(private=[account.gateway_account_id])


def owner_withdrawal(world: World) -> Objects:
    """A withdrawal the owner made after a paid deposit."""

    from p2pbank.payments import payouts

    made = owner_paid_deposit(world)
    gateway = payments_gateway(world)
    owner_payout_account(world)
    payouts.complete_test_onboarding(
        world.session, gateway, world.owner.id, iban="DE89370400440532013000"
    )
    payout = payouts.withdraw(
        world.session, gateway, world.owner.id, amount_minor=2_000, idempotency_key="matrix"
    )
    return Objects(
        path={"payout_id": payout.id, **made.path},
        private=[payout.gateway_transfer_id, *made.private],
    )


def owner_money(world: World) -> Objects:
    """EUR 43.21 deposited into the owner's wallet, with a private memo; also a leaf in the
    audit log (every journal entry is one)."""
    from p2pbank import clock
    from p2pbank.audit import sequencer
    from p2pbank.audit.queries import head_size
    from p2pbank.ledger import services as ledger

    entry = deposit(
        world.session,
        world.owner.id,
        4_321,
        key=f"matrix-deposit:{world.owner.id}",
        memo="owner-private-memo",
    )
    sequencer.integrate_queued(world.session, clock.now())  # as it runs every second
    return Objects(
        path={
            "code": ledger.wallet_code(world.owner.id),
            "entry_id": entry.id,
            "sequence": head_size(world.session) - 1,
        },
        private=["owner-private-memo", "43.21"],
    )
