"""Demo: who is in the demo, and the passwords and second factor printed once by `make run`."""

from __future__ import annotations

import hashlib

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
