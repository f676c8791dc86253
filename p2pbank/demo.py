"""Demo data: a living platform on a fresh clone. Every feature adds its part here."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from p2pbank.audit import services as audit
from p2pbank.audit.note import Signer
from p2pbank.identity import services as identity

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
    return "demo-" + email.split("@")[0] + "-2026!"


def seed(session: Session, audit_signer: Signer | None = None) -> Iterator[str]:
    """Everything, in order; the trust log's checkpoint is signed last so it covers it all."""
    yield from _seed_people(session)
    if audit_signer is not None:
        yield from seed_audit_checkpoint(session, audit_signer)  # keep last


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
        yield f"  {email:32} {demo_password(email):28} {', '.join(roles)}"
