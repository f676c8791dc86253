"""Matrix objects of trust: a deal of the owner's with a third member, rated or not, a
revision asked, and the owner's pseudonym in the trust log."""

from __future__ import annotations

import uuid

from tests.support.matrix.rows import Objects, World
from tests.support.people import member


def _trust_counterparty(world: World):
    """A third member the owner did business with (not the matrix's `other`)."""
    return member(
        world.session,
        "Xena Counterparty",
        email=f"xena-{uuid.uuid4().hex[:8]}@example.test",
        kyc="unverified",
    )


def _trust_transaction(world: World):
    from p2pbank.trust import services as trust

    xena = _trust_counterparty(world)
    (transaction,) = trust.record_completed_transaction(
        world.session,
        ref_type="loan",
        ref_id=uuid.uuid4().int % 1_000_000,
        principal_id=world.owner.id,
        counterparty_ids=[xena.id],
    )
    world.session.commit()
    return transaction, xena


def trust_pending(world: World) -> Objects:
    """A completed loan between the owner and Xena that nobody rated yet."""
    transaction, _xena = _trust_transaction(world)
    return Objects(path={"transaction_id": transaction.id}, private=["Xena Counterparty"])


def trust_sealed(world: World) -> Objects:
    """The owner rated Xena; the rating is sealed, its comment private to the owner."""
    from p2pbank.trust import services as trust

    transaction, _xena = _trust_transaction(world)
    rating = trust.rate_counterparty(
        world.session,
        world.owner.id,
        transaction.id,
        value="negative",
        comment="owner-sealed-comment",
    )
    return Objects(
        path={"transaction_id": transaction.id, "rating_id": rating.id},
        private=["owner-sealed-comment"],
    )


def trust_received(world: World) -> Objects:
    """Xena rated the owner (negative) and the owner rated her: both shown."""
    from p2pbank.trust import services as trust

    transaction, xena = _trust_transaction(world)
    about_owner = trust.rate_counterparty(
        world.session, xena.id, transaction.id, value="negative", comment="Paid late twice"
    )
    trust.rate_counterparty(world.session, world.owner.id, transaction.id, value="positive")
    return Objects(path={"rating_id": about_owner.id, "user_id": world.owner.id})


def trust_revision_asked(world: World) -> Objects:
    """The owner rated Xena negative; Xena asked the owner to reconsider."""
    from p2pbank.trust import revisions
    from p2pbank.trust import services as trust

    transaction, xena = _trust_transaction(world)
    owners = trust.rate_counterparty(
        world.session, world.owner.id, transaction.id, value="negative", comment="Slow"
    )
    trust.rate_counterparty(world.session, xena.id, transaction.id, value="positive")
    revisions.request_revision(world.session, xena.id, owners.id, note="xena-private-plea")
    return Objects(path={"rating_id": owners.id}, private=["xena-private-plea"])


def trust_subject(world: World) -> Objects:
    """The owner's pseudonym in the trust log (their KYC check is logged)."""
    from p2pbank.audit.services import pseudonym

    return Objects(path={"subject": pseudonym(world.session, world.owner.id)})
