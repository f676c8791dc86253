"""Real concurrency for tests: a PostgreSQL database made for one test (the ledger's history
is immutable, so a shared one could not be cleaned), members in it, and commands started
at the same moment in threads of their own."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.orm import Session, sessionmaker

from p2pbank.audit.keys import derive_pseudonym_key, session_info
from p2pbank.db import Base, make_engine, normalize_url
from p2pbank.models import load_all
from tests.support.database import TEST_SECRET
from tests.support.money import deposit
from tests.support.people import member


@pytest.fixture
def own_database(database_url) -> Iterator[sessionmaker[Session]]:
    """A fresh PostgreSQL database for one test; dropped afterwards."""
    base = make_url(normalize_url(database_url))
    name = f"{base.database}_race_{os.getpid()}_{secrets.token_hex(3)}"
    admin = make_engine(
        base.set(database="postgres").render_as_string(hide_password=False),
        isolation_level="AUTOCOMMIT",
    )
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = make_engine(base.set(database=name).render_as_string(hide_password=False))
    try:
        load_all()
        Base.metadata.create_all(engine)
        yield sessionmaker(
            bind=engine,
            expire_on_commit=False,
            info=session_info(derive_pseudonym_key(TEST_SECRET)),
        )
    finally:
        engine.dispose()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def person(session: Session, name: str, roles: list[str], money: int = 0):
    """A verified member named `name` (e-mail from the name), with `money` in the wallet."""
    user = member(session, name, roles, email=f"{name.lower()}@example.test")
    if money:
        deposit(session, user.id, money, key=f"deposit:{name}")
    return user


def race(*commands: Callable[[Session], object], factory) -> list[object]:
    """Run the commands at the same moment, each in its own thread and session; returns
    each one's result or the exception it raised."""
    barrier = threading.Barrier(len(commands))
    outcomes: list[object] = [None] * len(commands)

    def run(n: int, command) -> None:
        session = factory()
        try:
            barrier.wait()
            outcomes[n] = command(session)
        except Exception as exc:  # the outcome under test
            outcomes[n] = exc
        finally:
            session.close()

    threads = [threading.Thread(target=run, args=(n, c)) for n, c in enumerate(commands)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a command hung"
    return outcomes
