"""The Celery application, made from the Flask configuration.

Broker: CELERY_BROKER_URL (amqp://... for RabbitMQ, redis://...), else REDIS_URL, else
kombu's filesystem transport in the instance folder: no server, works across the
processes of one machine (what `make run` uses). Every task is acknowledged only after it
ran (acks_late) and given back when its worker process dies (reject_on_worker_lost); a
worker takes one message at a time, so a dead worker strands at most one unit.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from celery import Celery
from kombu import Connection

QUEUE = "p2pbank"  # the default; CELERY_QUEUE names another (platforms sharing a broker)
HEARTBEAT_EVERY = 15.0  # seconds between two heartbeats of the worker (through beat)


def queue_name(config: Any) -> str:
    return config.get("CELERY_QUEUE") or QUEUE


def broker_url(config: Any) -> str:
    return config.get("CELERY_BROKER_URL") or config.get("REDIS_URL") or "filesystem://"


def uses_filesystem(config: Any) -> bool:
    return broker_url(config).startswith("filesystem://")


def transport_options(config: Any) -> dict[str, Any]:
    """The filesystem broker's folders under the instance folder; for Redis, how long an
    unacknowledged task waits before it is delivered again."""
    if uses_filesystem(config):
        root = Path(config.get("INSTANCE_PATH") or "instance") / "broker"
        queue, control = root / "queue", root / "control"
        for folder in (queue, control):
            folder.mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(queue),
            "data_folder_out": str(queue),
            "control_folder": str(control),
            "store_processed": False,
        }
    return {"visibility_timeout": int(config.get("CELERY_VISIBILITY_TIMEOUT") or 300)}


def beat_schedule() -> dict[str, dict[str, Any]]:
    """One entry per kind of scheduled work (its scan, on its own period) and the worker's
    heartbeat. A scan left in the queue past its period expires: the next one replaces it."""
    from p2pbank.scheduling import KINDS

    schedule: dict[str, dict[str, Any]] = {
        "heartbeat": {
            "task": "p2pbank.heartbeat",
            "schedule": HEARTBEAT_EVERY,
            "options": {"expires": HEARTBEAT_EVERY * 2},
        }
    }
    for kind in KINDS:
        schedule[f"scan {kind.name}"] = {
            "task": "p2pbank.scan",
            "schedule": kind.every,
            "args": (kind.name,),
            "options": {"expires": max(kind.every * 2, 10.0)},
        }
    return schedule


def make_celery(config: Any) -> Celery:
    """A Celery app for this configuration (a mapping: the Flask app's config)."""
    app = Celery("p2pbank")
    instance = Path(config.get("INSTANCE_PATH") or "instance")
    app.conf.update(
        broker_url=broker_url(config),
        broker_transport_options=transport_options(config),
        broker_connection_retry_on_startup=True,
        task_default_queue=queue_name(config),
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_ignore_result=True,
        worker_prefetch_multiplier=1,
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        worker_enable_remote_control=False,  # no broadcast: one queue, nothing to control
        task_serializer="json",
        accept_content=["json"],
        timezone="UTC",
        enable_utc=True,
        beat_schedule=beat_schedule(),
        beat_schedule_filename=str(instance / "celerybeat-schedule"),
    )
    return app


def check_broker(config: Any, timeout: float = 1.5) -> str:
    """Connect to the broker once; returns its transport's name, raises when unreachable."""
    with Connection(
        broker_url(config), transport_options=transport_options(config), connect_timeout=timeout
    ) as connection:
        connection.ensure_connection(max_retries=1, timeout=timeout)
        return connection.transport_cls if isinstance(connection.transport_cls, str) else "up"


def worker_argv(config: Any, *, concurrency: int = 2, pool: str = "prefork") -> list[str]:
    """The command line of a worker for this configuration: a node name of its own (many
    workers per machine), no remote control chatter (the filesystem broker has no
    broadcast, and nothing here needs it)."""
    return [
        "-A", "p2pbank.tasks", "worker", "--loglevel", "INFO", "-Q", queue_name(config),
        "-n", f"p2pbank-{secrets.token_hex(3)}@%h",
        "--pool", pool, "--concurrency", str(concurrency),
        "--without-gossip", "--without-mingle", "--without-heartbeat",
    ]  # fmt: skip


def beat_argv(config: Any) -> list[str]:
    return ["-A", "p2pbank.tasks", "beat", "--loglevel", "INFO"]
