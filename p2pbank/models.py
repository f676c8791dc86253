"""Every domain's models, imported so Base.metadata is complete (Alembic, tests, CLI)."""

from __future__ import annotations

import importlib

DOMAIN_MODELS = (
    "p2pbank.identity.models",
    "p2pbank.notifications.models",
    "p2pbank.ledger.models",
    "p2pbank.audit.models",
    "p2pbank.payments.models",
    "p2pbank.lending.models",
    "p2pbank.crowdfunding.models",
    "p2pbank.trust.models",
    "p2pbank.questions.models",
    "p2pbank.resale.models",
    "p2pbank.runtime.models",
)


def load_all() -> None:
    for name in DOMAIN_MODELS:
        importlib.import_module(name)
