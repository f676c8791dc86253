"""The account's own mails (reset link, password changed, sign-up link, "someone tried to
sign up with your address") in the reader's language, from the same catalog as the pages
and the notification mails. The caller says which language: a person's saved one, or
the language of the request when there is no account yet."""

from __future__ import annotations

from p2pbank.identity.models import OutboxMail
from p2pbank.notifications.kinds import N_
from p2pbank.notifications.render import gettext_in, locale_for

RESET = (
    N_("Reset your p2pbank password"),
    N_(
        "Hello %(name)s,\n\nsomeone asked to reset the password of your p2pbank account. To "
        "choose a new password, open this link within %(minutes)s minutes:\n\n%(link)s\n\n"
        "The link works once. If you did not ask for it, ignore this mail: your password "
        "stays as it is."
    ),
)
CHANGED = (
    N_("Your password was changed"),
    N_(
        "Your p2pbank password was changed with a reset link: every signed-in session was "
        "ended and your API tokens were revoked. If this was not you, contact us at once."
    ),
)
SIGN_UP = (
    N_("Finish signing up for p2pbank"),
    N_(
        "Hello %(name)s,\n\nto create your p2pbank account with this e-mail address, open "
        "this link within %(hours)s hours and confirm:\n\n%(link)s\n\nThe link works once. "
        "If you did not sign up, ignore this mail: no account is made without it."
    ),
)
TAKEN = (
    N_("Someone tried to sign up with your address"),
    N_(
        "Hello %(name)s,\n\nsomeone (perhaps you) tried to create a p2pbank account with "
        "this e-mail address, which already has one. Nothing was changed.\n\nTo sign in: "
        "%(sign_in)s\nForgot your password? %(reset)s\n\nIf it was not you, you can ignore "
        "this mail."
    ),
)


def written(
    to_address: str, locale: str | None, mail: tuple[str, str], **params: object
) -> OutboxMail:
    """The outbox row of `mail` (subject, body) in `locale` (English when unknown)."""
    loc = locale_for(locale)
    subject, body = (gettext_in(loc, text) for text in mail)
    return OutboxMail(to_address=to_address, subject=subject[:200], body=(body % params)[:5000])
