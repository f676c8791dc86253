"""Declarative base, engine construction and the per-request session."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import DateTime, MetaData, create_engine, event, make_url
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


# PostgreSQL-only DDL (triggers, functions) as (create_sql, drop_sql) pairs. Applied after
# create_all and rendered literally into the initial migration, so both paths agree.
POSTGRES_DDL: list[tuple[str, str]] = []


def register_postgres_ddl(create_sql: str, drop_sql: str) -> None:
    if (create_sql, drop_sql) not in POSTGRES_DDL:
        POSTGRES_DDL.append((create_sql, drop_sql))


@event.listens_for(Base.metadata, "after_create")
def _apply_postgres_ddl(_metadata, connection, **_kw) -> None:
    if connection.dialect.name == "postgresql":
        for create_sql, _drop in POSTGRES_DDL:
            connection.exec_driver_sql(create_sql)


class UTCDateTime(TypeDecorator):
    """Aware UTC datetimes on every backend (SQLite would otherwise drop the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are refused; use p2pbank.clock.now()")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def normalize_url(url: str) -> str:
    """Use psycopg 3 for plain postgresql:// URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@dataclass(frozen=True)
class Timeouts:
    """How long a request may wait for the database before it gives up (and the page
    answers 503) instead of hanging: establishing a connection, one statement (PostgreSQL
    cancels it server-side), the SQLite write lock, a free connection in the pool.
    Zero or None means no limit (the drivers' defaults)."""

    connect_seconds: int | None = 10
    statement_ms: int | None = None
    sqlite_busy_ms: int = 30_000
    pool_seconds: float | None = None


def make_engine(url: str, timeouts: Timeouts | None = None, **kwargs) -> Engine:
    """Build the engine; on SQLite turn on foreign keys, WAL and serialized writes."""
    timeouts = timeouts or Timeouts()
    url = normalize_url(url)
    if url.startswith("sqlite"):
        busy_ms = timeouts.sqlite_busy_ms
        engine = create_engine(url, connect_args={"timeout": busy_ms / 1000}, **kwargs)
        _configure_sqlite(engine, busy_ms)
        return engine
    kwargs.setdefault("pool_pre_ping", True)
    if timeouts.pool_seconds:
        kwargs.setdefault("pool_timeout", timeouts.pool_seconds)
    return create_engine(url, connect_args=_postgres_connect_args(url, timeouts), **kwargs)


def _postgres_connect_args(url: str, timeouts: Timeouts) -> dict:
    """libpq's connect_timeout, and statement_timeout as a startup option (added to any
    `options` the URL already carries)."""
    args: dict = {}
    if timeouts.connect_seconds:
        args["connect_timeout"] = max(2, int(timeouts.connect_seconds))  # libpq's minimum
    if timeouts.statement_ms:
        given = make_url(url).query.get("options", "")
        given = given if isinstance(given, str) else " ".join(given)
        args["options"] = f"{given} -c statement_timeout={int(timeouts.statement_ms)}".strip()
    return args


def _configure_sqlite(engine: Engine, busy_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record) -> None:
        # Let SQLAlchemy, not the driver, decide where transactions begin.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode = WAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn) -> None:
        # One writer at a time: balance checks cannot interleave on SQLite. Requests that
        # only read (GET, HEAD) begin deferred, so pages do not queue behind each other
        # for the write lock; in WAL mode they read a consistent snapshot.
        conn.exec_driver_sql("BEGIN" if _reads_only.get() else "BEGIN IMMEDIATE")


# Set for the length of a request whose method is safe (GET, HEAD, OPTIONS): see app.py.
_reads_only: ContextVar[bool] = ContextVar("p2pbank_reads_only", default=False)


def set_reads_only(flag: bool) -> None:
    """Transactions begun from now on in this context only read (or not)."""
    _reads_only.set(flag)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False)


def db_session() -> Session:
    """The request's session (one per request, closed at teardown)."""
    from flask import current_app, g

    if "db_session" not in g:
        g.db_session = current_app.extensions["p2pbank.sessionmaker"]()
    return g.db_session


def close_db_session(_exc: BaseException | None = None) -> None:
    from flask import g

    session = g.pop("db_session", None)
    if session is not None:
        session.close()
