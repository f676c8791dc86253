"""Flask commands: db-upgrade, seed-demo, grant-role, tick, ledger-check, ..."""

from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from p2pbank.db import db_session


def register_cli(app: Flask) -> None:
    """Every command of the platform; domain commands live in this module too, each a thin
    shell over a service or query function."""
    for command in (
        db_upgrade,
        db_revision,
        seed_demo,
        grant_role,
        ledger_check,
        audit_keygen,
        audit_checkpoint,
        audit_verify,
        payments_reconcile,
        tick,
    ):
        app.cli.add_command(command)
    from p2pbank.cli_runtime import demo_refresh, run_all, status

    for command in (run_all, status, demo_refresh):
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
    from p2pbank.audit.keys import signer_for
    from p2pbank.demo import seed
    from p2pbank.identity.services import count_users

    session = db_session()
    if count_users(session) and not force:
        click.echo("demo data already present; keeping it")
        return
    for line in seed(session, audit_signer=signer_for(current_app.config)):
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


@click.command("audit-keygen")
@click.option(
    "--name",
    default="p2pbank.localhost/trust-log",
    show_default=True,
    help="Key name, also the checkpoints' origin line, e.g. p2pbank.example/trust-log.",
)
def audit_keygen(name: str) -> None:
    """Print a new Ed25519 note key pair for signing trust log checkpoints."""
    from p2pbank.audit.note import NoteError, generate_signer

    try:
        signer = generate_signer(name)
    except NoteError as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(f"skey: {signer.skey}")
    click.echo(f"vkey: {signer.verifier.vkey}")
    click.echo("Set AUDIT_SIGNING_KEY to the skey (keep it secret); publish the vkey.")


@click.command("audit-checkpoint")
@with_appcontext
def audit_checkpoint() -> None:
    """Sign a checkpoint of the trust log now and print the signed note."""
    from p2pbank.audit.keys import signer_for
    from p2pbank.audit.services import sign_checkpoint

    signer = signer_for(current_app.config)
    checkpoint = sign_checkpoint(db_session(), signer, signer.name)
    click.echo(checkpoint.note, nl=False)


@click.command("audit-verify")
@click.option("--proofs", default=64, show_default=True, help="Inclusion proofs to check.")
@with_appcontext
def audit_verify(proofs: int) -> None:
    """Verify the trust log in this database as the outside verifier would, plus every
    stored node and signed checkpoint, and every journal entry against its leaf. Exits 1
    naming the first bad log entry and the first bad journal entry."""
    from p2pbank.audit.keys import max_merge_delay, signer_for
    from p2pbank.audit.queries import verify_database
    from p2pbank.ledger.log_check import compare_with_log

    session = db_session()
    report = verify_database(
        session,
        signer_for(current_app.config).verifier,
        proofs=proofs,
        max_merge_delay=max_merge_delay(current_app.config),
    )
    signed = report.checkpoint.size if report.checkpoint is not None else 0
    report.journal = compare_with_log(session, proven_below=signed)
    for line in report.summary():
        click.echo(line)
    if not report.ok:
        raise SystemExit(1)


@click.command("payments-reconcile")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    default=None,
    help="Only gateway objects and ledger entries from this date/time (UTC) on.",
)
@with_appcontext
def payments_reconcile(since) -> None:
    """Match every gateway payment, refund and transfer to exactly one ledger entry by
    gateway id and amount. Exits 1 on any mismatch."""
    from datetime import UTC

    from p2pbank.payments.reconcile import reconcile
    from p2pbank.payments.settings import PaymentSettings, make_gateway

    session = db_session()
    gateway = make_gateway(session, PaymentSettings.from_mapping(current_app.config))
    report = reconcile(session, gateway, since=since.replace(tzinfo=UTC) if since else None)
    for line in report.lines:
        click.echo(
            f"{line.status:20} {line.kind:9} {line.gateway_id:32} "
            f"gateway={line.gateway_minor} ledger={line.ledger_minor} {line.currency} "
            f"entries={','.join(map(str, line.entry_ids)) or '-'} {line.note}".rstrip()
        )
    counts = ", ".join(f"{status} {n}" for status, n in report.counts.items())
    click.echo(f"{report.gateway} gateway: {counts}")
    if not report.ok:
        raise SystemExit(1)


@click.command("tick")
@click.option(
    "--until",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="Move the clock forward a day at a time up to this date (UTC), running each day.",
)
@with_appcontext
def tick(until) -> None:
    """Run the due work (repayments, arrears, listing expiries, holds) now, or day by day
    up to --until so tests and demos can move time forward."""
    from datetime import timedelta

    from p2pbank import clock
    from p2pbank.audit.keys import signer_for
    from p2pbank.jobs import run_due_work
    from p2pbank.payments.settings import PaymentSettings, make_gateway

    session = db_session()
    payments = PaymentSettings.from_mapping(current_app.config)
    gateway = (
        None
        if payments.production and not payments.uses_stripe
        else make_gateway(session, payments)
    )
    start = clock.now()
    moments = [start]
    if until is not None:
        if until.date() < start.date():
            raise click.ClickException(f"--until {until.date()} is before today")
        moments = []
        moment = start
        while moment.date() <= until.date():
            moments.append(moment)
            moment += timedelta(days=1)
    totals: dict[str, int] = {}
    with clock.frozen_at(start):
        for moment in moments:
            clock.set_now(moment)
            due = run_due_work(
                session,
                moment,
                audit_signer=signer_for(current_app.config),
                payment_gateway=gateway,
            )
            for name, count in due.items():
                totals[name] = totals.get(name, 0) + count
    done = ", ".join(f"{name} {count}" for name, count in sorted(totals.items()) if count)
    click.echo(f"ran {len(moments)} day(s) up to {moments[-1].date()}: {done or 'nothing due'}")
