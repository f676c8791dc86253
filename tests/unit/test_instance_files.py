"""Keys written once into the instance folder: one value for every process, mode 0600."""

from __future__ import annotations

import multiprocessing
import secrets
import stat

from p2pbank.config import Config
from p2pbank.instance_files import read_or_create


def _race(path: str, start, results) -> None:
    from pathlib import Path

    start.wait()
    results.put(read_or_create(Path(path), lambda: secrets.token_hex(32)))


def test_processes_starting_together_agree_on_one_value(tmp_path):
    path = tmp_path / "instance" / "secret.key"
    context = multiprocessing.get_context("fork")
    start, results = context.Event(), context.Queue()
    racers = [context.Process(target=_race, args=(str(path), start, results)) for _ in range(8)]
    for racer in racers:
        racer.start()
    start.set()
    values = {results.get(timeout=30) for _ in racers}
    for racer in racers:
        racer.join(timeout=30)
    assert values == {path.read_text().strip()}
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary left


def test_development_config_reads_the_instance_secret_key(tmp_path):
    first = Config(ENV="development", INSTANCE_PATH=str(tmp_path)).finish()
    second = Config(ENV="development", INSTANCE_PATH=str(tmp_path)).finish()
    assert first.SECRET_KEY == second.SECRET_KEY == (tmp_path / "secret.key").read_text().strip()
    configured = Config(ENV="development", INSTANCE_PATH=str(tmp_path), SECRET_KEY="x" * 40)
    assert configured.finish().SECRET_KEY == "x" * 40
