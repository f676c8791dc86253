"""The shipped gunicorn configuration (p2pbank.gunicorn_conf): clients trickling a request
body do not starve everyone else, and each is cut off at the read deadline.

Before it, `make run` served with two synchronous workers: four such clients on the
unauthenticated webhook held both, and /healthz waited until they finished."""

from __future__ import annotations

import time

import pytest
import requests

from tests.serving.server import gunicorn, prepare_instance
from tests.serving.slow_client import BODY_LENGTH, SlowClient

READ_TIMEOUT = 10  # seconds; the shipped default is 30


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    folder = tmp_path_factory.mktemp("slow") / "instance"
    env = prepare_instance(folder)
    env.update(
        P2PBANK_REQUEST_READ_TIMEOUT=str(READ_TIMEOUT), WEB_CONCURRENCY="2", GUNICORN_THREADS="4"
    )
    with gunicorn(env, folder.parent / "logs", "-c", "python:p2pbank.gunicorn_conf") as server:
        yield server


def test_health_answers_while_slow_clients_hold_connections(served):
    slow = [SlowClient(served.url, "/webhooks/stripe", interval=0.5) for _ in range(4)]
    for client in slow:
        client.start()
    for client in slow:
        assert client.connected.wait(10)
    time.sleep(1.5)  # every slow client has a thread and is inside its body
    timings = []
    for _ in range(5):
        started = time.perf_counter()
        health = requests.get(f"{served.url}/healthz", timeout=20)
        timings.append(time.perf_counter() - started)
        assert health.status_code == 200
    still = sum(client.still_connected for client in slow)
    print(
        f"\n/healthz with 4 slow clients connected: "
        f"{', '.join(f'{t * 1000:.0f} ms' for t in timings)}; {still} still sending"
    )
    assert still == 4, "the slow clients should still be connected while /healthz answers"
    for client in slow:
        client.join(timeout=READ_TIMEOUT + 30)
    for client in slow:
        # Cut off long before the body could have been completed, with a clear 400.
        assert client.ended_at is not None
        assert client.bytes_sent < BODY_LENGTH
        assert client.answer.startswith(b"HTTP/1.1 400"), client.answer[:200]
    assert "not received within" in served.log_text()


def test_a_prompt_webhook_is_still_read_whole(served):
    answer = requests.post(
        f"{served.url}/webhooks/stripe",
        data=b"{}",
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
        timeout=20,
    )
    assert answer.status_code == 400  # a forged signature, refused after reading the body
    assert answer.headers["Content-Type"].startswith("application/problem+json")
