"""Demo data: a living platform on a fresh clone. Every feature adds its part here."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

from sqlalchemy.orm import Session

from p2pbank.audit import services as audit
from p2pbank.audit.note import Signer
from p2pbank.clock import now
from p2pbank.identity import services as identity
from p2pbank.identity import twofactor
from p2pbank.identity import twofactor_services as two_factor
from p2pbank.ledger import services as ledger
from p2pbank.money import Money

# Demo passwords are printed once by `make run`; they exist only in development data.
DEMO_PEOPLE = [
    ("lena@demo.p2pbank.test", "Lena Lender", ["lender"], "verified"),
    ("lars@demo.p2pbank.test", "Lars Lender", ["lender", "backer"], "verified"),
    ("bo@demo.p2pbank.test", "Bo Borrower", ["borrower"], "verified"),
    ("bea@demo.p2pbank.test", "Bea Borrower", ["borrower", "lender"], "verified"),
    ("ian@demo.p2pbank.test", "Ian Initiator", ["initiator", "backer"], "verified"),
    ("ada@demo.p2pbank.test", "Ada Auditor", ["auditor"], "verified"),
    ("admin@demo.p2pbank.test", "Alex Admin", ["admin"], "verified"),
]


def demo_password(email: str) -> str:
    """Stable per person and printed once; it must pass the password policy, which refuses
    passwords that contain the e-mail address's name part."""
    return "demo-" + hashlib.sha256(email.encode()).hexdigest()[:8] + "-2026!"


# Auditors and admins must sign in with two factors, so the demo auditor and admin have it
# on with this known key (printed once by `make run`): add it to any authenticator app, or
# print the current code with the one-liner shown. Demo data only; never a real account's.
DEMO_TOTP_SECRET = "P2PBANKDEMOTOTPSECRETFORDEMOONLY"  # noqa: S105 (printed on purpose)


def seed(session: Session, audit_signer: Signer | None = None) -> Iterator[str]:
    """Everything, in order; the trust log's checkpoint is signed last so it covers it all."""
    yield from _seed_people(session)
    yield from seed_wallets(session)
    if audit_signer is not None:
        yield from seed_audit_checkpoint(session, audit_signer)  # keep last


# Opening wallet balances (minor units), posted as deposits from the gateway clearing
# account so the wallets, statements and trial balance have something to show.
DEMO_WALLETS = {
    "lena@demo.p2pbank.test": 500_000,
    "lars@demo.p2pbank.test": 250_000,
    "bo@demo.p2pbank.test": 15_000,
    "bea@demo.p2pbank.test": 120_000,
    "ian@demo.p2pbank.test": 30_000,
}


def seed_wallets(session: Session) -> Iterator[str]:
    """Give the demo people money to lend and pledge: one deposit each, idempotent (the
    key names the person, so seeding twice posts nothing new)."""
    ledger.ensure_platform_account(session, ledger.PLATFORM_GATEWAY_CLEARING)
    yield "wallets (opening deposits):"
    for email, minor in DEMO_WALLETS.items():
        user = identity.find_user_by_email(session, email)
        if user is None:
            continue
        ledger.ensure_wallet(session, user.id)
        ledger.transfer(
            session,
            from_code=ledger.PLATFORM_GATEWAY_CLEARING,
            to_code=ledger.wallet_code(user.id),
            amount=Money(minor),
            kind="deposit",
            idempotency_key=f"demo:opening-deposit:{email}",
            memo="Opening deposit (demo data)",
        )
        session.commit()
        yield f"  {email:32} {Money(minor)}"


def seed_audit_checkpoint(session: Session, signer: Signer) -> Iterator[str]:
    """Sign a checkpoint of the trust log, so the auditor pages and verifier have one."""
    checkpoint = audit.sign_checkpoint(session, signer, signer.name)
    yield f"trust log: checkpoint of {checkpoint.tree_size} entries signed by {signer.name}"
    yield (
        "  verify it: python -m p2pbank.audit.verify --url http://127.0.0.1:5000 "
        f"--key {signer.verifier.vkey}"
    )


def _seed_people(session: Session) -> Iterator[str]:
    yield "demo people (e-mail / password):"
    for email, name, roles, kyc in DEMO_PEOPLE:
        self_service = [r for r in roles if r not in ("auditor", "admin")]
        user = identity.sign_up(
            session,
            email=email,
            display_name=name,
            password=demo_password(email),
            roles=self_service,
        )
        for role in roles:
            if role in ("auditor", "admin"):
                identity.grant_role(session, None, user.id, role, "demo data")
        if kyc == "verified":
            identity.set_kyc_status(session, None, user.id, "pending", "demo data")
            identity.set_kyc_status(session, None, user.id, "verified", "demo data")
        if user.two_factor_required:
            two_factor.start_enrolment(session, user.id, secret=DEMO_TOTP_SECRET)
            two_factor.confirm_enrolment(
                session, user.id, twofactor.code_at(DEMO_TOTP_SECRET, now())
            )
        yield f"  {email:32} {demo_password(email):28} {', '.join(roles)}"
    yield from _two_factor_note()


def _two_factor_note() -> Iterator[str]:
    grouped = " ".join(DEMO_TOTP_SECRET[i : i + 4] for i in range(0, len(DEMO_TOTP_SECRET), 4))
    yield "two-factor sign-in is on for the auditor and the admin (their roles require it):"
    yield f"  authenticator app key: {grouped}"
    yield (
        "  no app at hand? print the current code: .venv/bin/python -c "
        f"\"import pyotp; print(pyotp.TOTP('{DEMO_TOTP_SECRET}').now())\""
    )
