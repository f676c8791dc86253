"""Which gateway runs, and the configurable limits."""

from __future__ import annotations

import pytest

from p2pbank.config import Config
from p2pbank.payments.gateway import GatewayUnavailable
from p2pbank.payments.sandbox_gateway import SandboxGateway
from p2pbank.payments.settings import PaymentSettings, make_gateway
from p2pbank.payments.stripe_gateway import StripeGateway


def test_without_a_key_the_test_mode_gateway_runs(session):
    settings = PaymentSettings.from_mapping({"SECRET_KEY": "s" * 40})
    assert settings.is_test_mode and not settings.uses_stripe
    assert isinstance(make_gateway(session, settings), SandboxGateway)
    # The signing secret derives from SECRET_KEY, so every worker process agrees on it.
    again = PaymentSettings.from_mapping({"SECRET_KEY": "s" * 40})
    assert settings.test_webhook_secret == again.test_webhook_secret
    other = PaymentSettings.from_mapping({"SECRET_KEY": "t" * 40})
    assert other.test_webhook_secret != settings.test_webhook_secret


def test_with_a_key_stripe_runs(session):
    live = PaymentSettings.from_mapping({"STRIPE_SECRET_KEY": "sk_live_x", "ENV": "production"})
    gateway = make_gateway(session, live)
    assert isinstance(gateway, StripeGateway)
    assert not gateway.is_test_mode and not live.is_test_mode
    test_key = PaymentSettings.from_mapping({"STRIPE_SECRET_KEY": "sk_test_x"})
    assert test_key.is_test_mode and make_gateway(session, test_key).is_test_mode


def test_production_never_falls_back_to_test_mode(session):
    settings = PaymentSettings.from_mapping({"ENV": "production", "SECRET_KEY": "s" * 40})
    with pytest.raises(GatewayUnavailable):
        make_gateway(session, settings)


def test_limits_come_from_the_environment():
    config = Config.from_env(
        {
            "PAYMENTS_MIN_DEPOSIT_MINOR": "500",
            "PAYMENTS_MAX_DEPOSIT_MINOR": "100000",
            "STRIPE_PUBLISHABLE_KEY": "pk_test_1",
        }
    )
    settings = PaymentSettings.from_mapping(config.as_flask())
    assert (settings.min_deposit_minor, settings.max_deposit_minor) == (500, 100_000)
    assert settings.stripe_publishable_key == "pk_test_1"
    defaults = PaymentSettings.from_mapping(Config.from_env({}).as_flask())
    assert (defaults.min_deposit_minor, defaults.max_deposit_minor) == (1_000, 2_500_000)


def test_a_stripe_gateway_needs_a_key():
    with pytest.raises(ValueError):
        StripeGateway(secret_key="", webhook_secret="whsec_x")
