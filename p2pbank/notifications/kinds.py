"""What a person can be told, as data: each kind's sentence (a gettext message id with
%(name)s placeholders, translated when shown, in the reader's language), the group it is
listed under in the settings, and whether it is mailed unless turned off.

Notifications store the kind and its parameters, never rendered text. Parameter names
say how they are shown: `*_minor` with `currency` is money (`amount_minor` fills
%(amount)s), `*_on` is an ISO date, `*_bps` is basis points shown as a percentage number
(`fee_rate_bps` 250 fills %(fee_rate)s with 2.5), everything else is shown as it is.
"""

from __future__ import annotations

from dataclasses import dataclass


def N_(text: str) -> str:  # noqa: N802 - the gettext marker's usual name
    """Marks a message for the catalog; it is translated where it is shown."""
    return text


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # what the settings page calls it
    text: str
    group: str
    email: bool = True  # mailed unless the person turned this kind off
    # A parameter written by a person (an update's text): not part of the sentence, shown
    # in full below it in the mail.
    detail: str | None = None


GROUPS = {
    "lending": N_("Loans and lending"),
    "crowdfunding": N_("Campaigns and pledges"),
    "wallet": N_("Wallet"),
    "account": N_("Your account"),
    "trust": N_("Ratings and grades"),
    "questions": N_("Questions and answers"),
}

_KINDS = (
    # lending: borrower
    Kind(
        "loan_funded",
        N_("Loan request funded"),
        N_("Your loan request “%(title)s” is fully funded: %(amount)s."),
        "lending",
    ),
    Kind(
        "loan_partly_funded",
        N_("Loan request partly funded"),
        N_("Your loan request “%(title)s” is %(percent)s%% funded."),
        "lending",
    ),
    Kind(
        "listing_expired",
        N_("Loan request expired"),
        N_("Your loan request “%(title)s” expired before it was fully funded."),
        "lending",
    ),
    Kind(
        "instalment_due_soon",
        N_("Instalment due in 3 days"),
        N_("Instalment %(number)s of loan #%(loan_id)s, %(amount)s, is due on %(due_on)s."),
        "lending",
    ),
    Kind(
        "instalment_paid",
        N_("Instalment paid"),
        N_("Instalment %(number)s of loan #%(loan_id)s is paid."),
        "lending",
    ),
    Kind(
        "instalment_late",
        N_("Instalment late"),
        N_("Instalment %(number)s of loan #%(loan_id)s is %(days)s days late."),
        "lending",
    ),
    Kind(
        "loan_defaulted",
        N_("Your loan in default"),
        N_("Loan #%(loan_id)s is in default."),
        "lending",
    ),
    # lending: lender
    Kind(
        "repayment_received",
        N_("Repayment income received"),
        N_("You received %(amount)s from loan #%(loan_id)s."),
        "lending",
    ),
    Kind(
        "lent_loan_late",
        N_("A loan you lent to is late"),
        N_("Loan #%(loan_id)s you lent to is %(days)s days late."),
        "lending",
    ),
    Kind(
        "lent_loan_defaulted",
        N_("A loan you lent to is in default"),
        N_("Loan #%(loan_id)s you lent to is in default."),
        "lending",
    ),
    Kind(
        "order_filled",
        N_("Lending order filled"),
        N_("Your lending order #%(order_id)s is filled: %(amount)s lent."),
        "lending",
    ),
    # crowdfunding
    Kind(
        "pledge_charged",
        N_("Pledge charged"),
        N_("Your pledge of %(amount)s to “%(title)s” was charged."),
        "crowdfunding",
    ),
    Kind(
        "card_declined",
        N_("Card declined"),
        N_(
            "Your card was declined for your pledge to “%(title)s”. Add another card under "
            "My pledges within %(days)s days, or the pledge is dropped."
        ),
        "crowdfunding",
    ),
    Kind(
        "pledge_dropped",
        N_("Pledge dropped"),
        N_(
            "Your card could not be charged within %(days)s days, so your pledge to "
            "“%(title)s” was dropped. Nothing was charged."
        ),
        "crowdfunding",
    ),
    Kind(
        "pledge_refunded",
        N_("Pledge refunded"),
        N_("The initiator of “%(title)s” refunded your pledge of %(amount)s."),
        "crowdfunding",
    ),
    Kind(
        "campaign_succeeded",
        N_("Campaign reached its goal"),
        N_("“%(title)s” reached its goal."),
        "crowdfunding",
    ),
    Kind(
        "campaign_failed",
        N_("Campaign did not reach its goal"),
        N_(
            "“%(title)s” did not reach its goal, so nobody is charged and no fee is due. "
            "Money held in a wallet for it is available again; no saved card is used."
        ),
        "crowdfunding",
    ),
    Kind(
        "campaign_cancelled",
        N_("Campaign cancelled"),
        N_(
            "“%(title)s” was cancelled (%(reason)s). Nothing was charged: money held in your "
            "wallet for it is available again and your saved card will not be used."
        ),
        "crowdfunding",
    ),
    Kind(
        "campaign_paid_out",
        N_("Payout statement of your campaign"),
        N_(
            "Payout of “%(title)s”: %(collected)s collected, %(refunded)s refunded, platform "
            "fee (%(fee_rate)s%%) %(platform_fee)s, card processing fees %(processing_fee)s; "
            "%(net)s paid to your wallet."
        ),
        "crowdfunding",
    ),
    Kind(
        "campaign_update",
        N_("Campaign update"),
        N_("“%(title)s” posted an update: %(headline)s"),
        "crowdfunding",
        detail="body",
    ),
    Kind(
        "reward_shipped",
        N_("Reward shipped"),
        N_(
            "Your reward from “%(title)s” is on its way. Confirm receipt (or report a "
            "problem) under My pledges."
        ),
        "crowdfunding",
    ),
    Kind(
        "reward_problem",
        N_("A backer reports a problem with a reward"),
        N_("A backer of “%(title)s” reports a problem with a reward."),
        "crowdfunding",
        detail="note",
    ),
    # wallet
    Kind(
        "withdrawal_paid",
        N_("Withdrawal paid out"),
        N_("Your withdrawal of %(amount)s was paid out."),
        "wallet",
    ),
    Kind(
        "withdrawal_failed",
        N_("Withdrawal failed"),
        N_("Your withdrawal of %(amount)s failed; the money is back in your wallet."),
        "wallet",
    ),
    # account
    Kind(
        "kyc_verified",
        N_("Identity check accepted"),
        N_("Your identity check is done: you are verified."),
        "account",
    ),
    Kind(
        "kyc_rejected",
        N_("Identity check not accepted"),
        N_("Your identity check was not accepted. You can ask for a new review."),
        "account",
    ),
    Kind("role_granted", N_("Role granted"), N_("You can now act as %(role)s."), "account"),
    # trust
    Kind("rating_open", N_("Rating window opened"), N_("You can now rate %(name)s."), "trust"),
    Kind(
        "rating_revealed",
        N_("Rating revealed"),
        N_("A rating of you by %(name)s is now visible."),
        "trust",
    ),
    Kind(
        "grade_changed",
        N_("Risk grade changed"),
        N_("Your risk grade changed from %(old)s to %(new)s."),
        "trust",
    ),
    # questions
    Kind(
        "question_asked",
        N_("Question on your listing or campaign"),
        N_("Someone asked a question about “%(title)s”."),
        "questions",
    ),
    Kind(
        "question_answered",
        N_("Your question answered"),
        N_("Your question about “%(title)s” was answered."),
        "questions",
    ),
)
KINDS: dict[str, Kind] = {k.name: k for k in _KINDS}


def kind(name: str) -> Kind:
    """The kind called `name`; KeyError for a name that is not in the catalogue."""
    return KINDS[name]


def by_group() -> list[tuple[str, list[Kind]]]:
    """The kinds grouped for the settings page, in catalogue order."""
    return [(group, [k for k in _KINDS if k.group == group]) for group in GROUPS]


def wants_email(name: str, turned_off: set[str]) -> bool:
    return KINDS[name].email and name not in turned_off


JSON_SCALARS = (str, int, bool, type(None))


def check_params(name: str, params: dict[str, object]) -> None:
    """Parameters are a flat dict of JSON scalars (they are stored, then shown in any
    language); money comes as `*_minor` with `currency`. ValueError otherwise."""
    if name not in KINDS:
        raise ValueError(f"unknown notification kind {name!r}")
    for key, value in params.items():
        if not isinstance(key, str) or not isinstance(value, JSON_SCALARS):
            raise ValueError(f"parameter {key!r} of {name} is not a plain value")
        if key.endswith("_minor") and "currency" not in params:
            raise ValueError(f"money parameter {key!r} of {name} needs a currency")


def check_link(link: str | None) -> None:
    """A notification points somewhere on this site: a path, never another host."""
    if link is not None and (
        not link.startswith("/") or link.startswith("//") or "\\" in link or len(link) > 300
    ):
        raise ValueError(f"a notification links to a path on this site, not {link!r}")
