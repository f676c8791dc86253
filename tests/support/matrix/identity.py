"""Matrix objects of identity: the owner's token, e-mail, two-factor set-up, reset link,
mail, notification, and a pending sign-up link."""

from __future__ import annotations

from p2pbank.identity import services as identity
from tests.support.matrix.rows import Objects, World


def owner_token(world: World) -> Objects:
    """An API token of the owner's; its name and secret are private."""
    row, secret = identity.create_api_token(
        world.session, world.owner.id, name="owner-private-laptop", scope="read"
    )
    return Objects(path={"token_id": row.id}, private=["owner-private-laptop", secret])


def owner_email(world: World) -> Objects:
    """The owner's e-mail address: private."""
    return Objects(private=[world.owner.email])


def owner_id(world: World) -> Objects:
    """The owner's id in the path; their e-mail address is private."""
    return Objects(path={"user_id": world.owner.id}, private=[world.owner.email])


def owner_enrolling(world: World) -> Objects:
    """The owner started two-factor set-up: their secret is private to them."""
    from p2pbank.identity import twofactor_services

    secret = twofactor_services.start_enrolment(world.session, world.owner.id)
    return Objects(private=[secret, world.owner.email])


def owner_reset_link(world: World) -> Objects:
    """A password-reset link the owner asked for (its token is the credential)."""
    from p2pbank.identity import reset_services

    links: list[str] = []
    reset_services.request_password_reset(
        world.session,
        world.owner.email,
        ttl_seconds=3600,
        link_for=lambda token: links.append(token) or f"/password/reset/{token}",
    )
    (token,) = links
    return Objects(path={"token": token}, private=[world.owner.email])


def failed_mail_to_owner(world: World) -> Objects:
    """An undeliverable mail to the owner: admins see who and what, never the body."""
    from p2pbank.identity.models import OutboxMail

    row = OutboxMail(
        to_address=world.owner.email, subject="s", body="mail-body-secret", status="failed"
    )
    world.session.add(row)
    world.session.commit()
    return Objects(path={"mail_id": row.id}, private=["mail-body-secret"])


def owner_notification(world: World) -> Objects:
    """A notification of the owner's: only they read it or mark it read."""
    from p2pbank.notifications import services as notifications

    note = notifications.notify(
        world.session, world.owner.id, "question_answered", {"title": "owner-private-note"}, "/"
    )
    world.session.commit()
    return Objects(path={"notification_id": note.id}, private=["owner-private-note"])


def pending_sign_up_link(world: World) -> Objects:
    """A mailed sign-up link for a new address (the link is the credential)."""
    from p2pbank.identity import signup_services

    links: list[str] = []
    signup_services.request_sign_up(
        world.session,
        email="newcomer@example.test",
        display_name="Newcomer",
        password="pale-window-orbit-93",
        ttl_seconds=3600,
        link_for=lambda token: links.append(token) or f"/signup/confirm/{token}",
        sign_in_link="/login",
        reset_link="/password/forgot",
    )
    (token,) = links
    return Objects(path={"token": token})
