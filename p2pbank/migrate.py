"""Run Alembic programmatically (the scripts live in the top-level migrations/ folder)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


def alembic_config(database_url: str) -> AlembicConfig:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    """Migrate; for an embedded SQLite file, create its folder first (fresh clones)."""
    from sqlalchemy import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        Path(url.database).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(database_url), revision)


def regenerate_initial() -> Path:
    """Rewrite the single initial revision from the models (the project has not shipped a
    schema yet, so history is one revision). Run: python -m p2pbank.migrate"""
    import tempfile

    for old in (MIGRATIONS / "versions").glob("0001_*.py"):
        old.unlink()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{folder}/empty.sqlite3"
        command.revision(alembic_config(url), message="initial schema", autogenerate=True,
                         rev_id="0001")
    (created,) = (MIGRATIONS / "versions").glob("0001_*.py")
    return created


if __name__ == "__main__":
    import subprocess
    import sys

    path = regenerate_initial()
    ruff = Path(sys.executable).with_name("ruff")
    subprocess.run([str(ruff), "format", "--quiet", str(path)], check=False)  # noqa: S603
    subprocess.run([str(ruff), "check", "--fix", "--quiet", str(path)], check=False)  # noqa: S603
    print(f"wrote {path.relative_to(MIGRATIONS.parent)}")
