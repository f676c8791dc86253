"""Which gateway to use and the configurable limits, read from the app's configuration
mapping (the caller passes it in; this package never imports the web framework)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from p2pbank.payments.gateway import GatewayUnavailable, PaymentGateway
from p2pbank.payments.rules import DEFAULT_MAX_DEPOSIT_MINOR, DEFAULT_MIN_DEPOSIT_MINOR

_PROCESS_SECRET = secrets.token_hex(32)


@dataclass(frozen=True)
class PaymentSettings:
    stripe_secret_key: str = ""
    stripe_webhook_secret: str = ""
    stripe_api_base: str = ""
    stripe_publishable_key: str = ""
    # Signs the test-mode gateway's events when no Stripe webhook secret is configured.
    test_webhook_secret: str = ""
    min_deposit_minor: int = DEFAULT_MIN_DEPOSIT_MINOR
    max_deposit_minor: int = DEFAULT_MAX_DEPOSIT_MINOR
    currency: str = "EUR"
    payout_country: str = "NL"
    idempotency_namespace: str = ""
    stripe_max_network_retries: int = 2

    production: bool = False

    @property
    def uses_stripe(self) -> bool:
        return bool(self.stripe_secret_key)

    @property
    def is_test_mode(self) -> bool:
        """No real money moves: the embedded gateway, or Stripe with a test key."""
        return not self.uses_stripe or self.stripe_secret_key.startswith(("sk_test_", "rk_test_"))

    @classmethod
    def from_mapping(cls, config: Mapping) -> PaymentSettings:
        """From STRIPE_SECRET_KEY, STRIPE_WEBHOOK_SECRET, STRIPE_API_BASE,
        STRIPE_PUBLISHABLE_KEY, STRIPE_MAX_NETWORK_RETRIES, STRIPE_IDEMPOTENCY_NAMESPACE
        (prefixed to every idempotency key sent to Stripe), PAYMENTS_MIN_DEPOSIT_MINOR,
        PAYMENTS_MAX_DEPOSIT_MINOR and PAYMENTS_PAYOUT_COUNTRY. The test-mode gateway signs
        its events with STRIPE_WEBHOOK_SECRET or else a secret derived from SECRET_KEY."""
        webhook_secret = str(config.get("STRIPE_WEBHOOK_SECRET") or "")
        secret_key = str(config.get("SECRET_KEY") or "") or _PROCESS_SECRET
        derived = (
            "whsec_test_"
            + hmac.new(
                secret_key.encode(), b"p2pbank test-mode webhooks", hashlib.sha256
            ).hexdigest()
        )
        return cls(
            stripe_secret_key=str(config.get("STRIPE_SECRET_KEY") or ""),
            stripe_webhook_secret=webhook_secret,
            stripe_api_base=str(config.get("STRIPE_API_BASE") or ""),
            stripe_publishable_key=str(config.get("STRIPE_PUBLISHABLE_KEY") or ""),
            test_webhook_secret=webhook_secret or derived,
            min_deposit_minor=int(
                config.get("PAYMENTS_MIN_DEPOSIT_MINOR") or DEFAULT_MIN_DEPOSIT_MINOR
            ),
            max_deposit_minor=int(
                config.get("PAYMENTS_MAX_DEPOSIT_MINOR") or DEFAULT_MAX_DEPOSIT_MINOR
            ),
            payout_country=str(config.get("PAYMENTS_PAYOUT_COUNTRY") or "NL"),
            idempotency_namespace=str(config.get("STRIPE_IDEMPOTENCY_NAMESPACE") or ""),
            stripe_max_network_retries=int(config.get("STRIPE_MAX_NETWORK_RETRIES", 2)),
            production=config.get("ENV") == "production",
        )


def make_gateway(session: Session, settings: PaymentSettings) -> PaymentGateway:
    """Stripe when a secret key is configured, else the embedded test-mode gateway, which
    production never uses: it would accept test cards for money that does not exist."""
    if settings.production and not settings.uses_stripe:
        raise GatewayUnavailable("Card payments are not configured on this server.")
    if settings.uses_stripe:
        from p2pbank.payments.stripe_gateway import StripeGateway

        return StripeGateway(
            secret_key=settings.stripe_secret_key,
            webhook_secret=settings.stripe_webhook_secret,
            api_base=settings.stripe_api_base,
            key_namespace=settings.idempotency_namespace,
            max_network_retries=settings.stripe_max_network_retries,
        )
    from p2pbank.payments.sandbox_gateway import SandboxGateway

    return SandboxGateway(session, webhook_secret=settings.test_webhook_secret)
