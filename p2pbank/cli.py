"""Flask commands: db-upgrade, seed-demo, grant-role, tick, ledger-check, ..."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from p2pbank.db import db_session


def register_cli(app: Flask) -> None:
    """Every command of the platform; domain commands live in this module too, each a thin
    shell over a service or query function."""
    for command in (db_upgrade, db_revision, seed_demo, grant_role, ledger_check):
        app.cli.add_command(command)


@click.command("db-upgrade")
@with_appcontext
def db_upgrade() -> None:
    """Apply all Alembic migrations to DATABASE_URL."""
    from p2pbank.migrate import upgrade

    upgrade(current_app.config["DATABASE_URL"])
    click.echo("database is at the latest revision")


@click.command("db-revision")
@click.option("-m", "--message", required=True)
@with_appcontext
def db_revision(message: str) -> None:
    """Autogenerate a migration from the models (run against an up-to-date database)."""
    from alembic import command as alembic_command

    from p2pbank.migrate import alembic_config

    alembic_command.revision(
        alembic_config(current_app.config["DATABASE_URL"]), message=message, autogenerate=True
    )


@click.command("seed-demo")
@click.option("--force", is_flag=True, help="Seed even when users exist (not recommended).")
@with_appcontext
def seed_demo(force: bool) -> None:
    """Load the demo platform once: people, money, loans, campaigns, reputation."""
    from p2pbank.demo import seed
    from p2pbank.identity.services import count_users

    session = db_session()
    if count_users(session) and not force:
        click.echo("demo data already present; keeping it")
        return
    for line in seed(session):
        click.echo(line)


@click.command("grant-role")
@click.argument("email")
@click.argument("role")
@click.option("--reason", required=True)
@with_appcontext
def grant_role(email: str, role: str, reason: str) -> None:
    """Grant any role (auditor, admin, ...) from the command line; recorded."""
    from p2pbank.identity import services

    session = db_session()
    user = services.find_user_by_email(session, email)
    if user is None:
        raise click.ClickException(f"no user with e-mail {email}")
    services.grant_role(session, None, user.id, role, reason)
    click.echo(f"granted {role} to {email}")


@click.command("ledger-check")
@with_appcontext
def ledger_check() -> None:
    """Prove the ledger: balances equal postings, entries balance, nothing forbidden is
    negative, holds match held balances. Exits 1 naming each violation."""
    from p2pbank.ledger.checks import check_ledger

    report = check_ledger(db_session())
    for violation in report.violations:
        click.echo(f"VIOLATION: {violation}", err=True)
    click.echo(report.summary())
    if not report.ok:
        raise SystemExit(1)
