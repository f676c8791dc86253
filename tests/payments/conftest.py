"""Fixtures for the payment tests: localstripe (plus the small fake of what it lacks) in a
subprocess, a webhook receiver for their signed events, and the `gateways` fixture that runs
one contract suite against both gateways (the harness is in tests/support/gateways.py)."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from p2pbank.payments.sandbox_gateway import SandboxGateway
from tests.support.gateways import (
    STRIPE_KEY,
    WEBHOOK_SECRET,
    Gateways,
    StripeServers,
    WebhookReceiver,
    make_stripe_gateway,
    receiver_handler,
)


@pytest.fixture(scope="session")
def webhook_receiver() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    server = ThreadingHTTPServer(("127.0.0.1", 0), receiver_handler(receiver))
    receiver.url = f"http://127.0.0.1:{server.server_address[1]}/webhooks/stripe"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(scope="session")
def stripe_servers(webhook_receiver, tmp_path_factory) -> Iterator[StripeServers]:
    """localstripe and the fake in front of it, on 127.0.0.1 and free ports, for the run."""
    log = (tmp_path_factory.mktemp("stripe") / "servers.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(Path(__file__).with_name("stripe_servers.py"))],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        if not line:
            raise RuntimeError("the Stripe test servers did not start; see servers.log")
        ports = json.loads(line)
        servers = StripeServers(
            localstripe_url=f"http://127.0.0.1:{ports['localstripe']}",
            fake_url=f"http://127.0.0.1:{ports['fake']}",
            receiver=webhook_receiver,
        )
        servers.post(
            "/_config/webhooks/p2pbank", {"url": webhook_receiver.url, "secret": WEBHOOK_SECRET}
        )
        yield servers
    finally:
        if process.stdin:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        if process.stdout:
            process.stdout.close()
        log.close()


@pytest.fixture(params=["test", "stripe"])
def gateways(request, session) -> Gateways:
    """Each contract test runs once per gateway."""
    if request.param == "test":
        return Gateways("test", SandboxGateway(session, webhook_secret=WEBHOOK_SECRET), None)
    servers = request.getfixturevalue("stripe_servers")
    return Gateways("stripe", make_stripe_gateway(servers), servers)


@pytest.fixture
def testmode_gateway(session) -> SandboxGateway:
    return SandboxGateway(session, webhook_secret=WEBHOOK_SECRET)


# --- apps configured for each gateway ----------------------------------------------------------


@pytest.fixture
def stripe_app(config, connection, stripe_servers):
    """The real app with Stripe configured: the SDK talks to the fake in front of
    localstripe, and webhooks are verified with the shared test secret."""
    from p2pbank.app import create_app
    from tests.support.database import bound_sessionmaker

    config.STRIPE_SECRET_KEY = STRIPE_KEY
    config.STRIPE_WEBHOOK_SECRET = WEBHOOK_SECRET
    config.STRIPE_API_BASE = stripe_servers.fake_url
    config.extra["STRIPE_IDEMPOTENCY_NAMESPACE"] = f"t{time.time_ns()}:"
    config.extra["STRIPE_MAX_NETWORK_RETRIES"] = 0
    application = create_app(config)
    application.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    return application


@pytest.fixture
def ready(session, make_user, testmode_gateway):
    """A verified person with money (a paid card deposit) and a payout account."""
    from tests.support.payments import card_deposit, onboard

    lena = make_user(roles=["lender"], kyc="verified")
    card_deposit(session, testmode_gateway, lena.id, 20_000, key=f"fund-{lena.id}")
    onboard(session, testmode_gateway, lena)
    return lena
