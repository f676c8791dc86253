"""A committed database and a broker for tests that start real worker processes."""

from __future__ import annotations

import pytest

from tests.support.database import database_url_for_run
from tests.worker import support


@pytest.fixture
def worker_db(tmp_path):
    """(url, sessionmaker) of a fresh committed database the worker processes share."""
    url, drop = support.fresh_database(database_url_for_run(), tmp_path)
    maker, dispose = support.session_factory(url)
    try:
        yield url, maker
    finally:
        dispose()
        drop()


@pytest.fixture(params=sorted(support.BROKERS))
def broker(request):
    """Each real broker the platform supports in production: Redis and RabbitMQ."""
    url = support.BROKERS[request.param]
    try:
        support.purge(url)
    except Exception as exc:  # noqa: BLE001 - the broker is not running here
        pytest.skip(f"{request.param} is not reachable: {exc}")
    return url
