"""Home, dashboard and health checks."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user, login_required

from p2pbank import clock, readiness
from p2pbank.crowdfunding.read import catalogue
from p2pbank.db import db_session
from p2pbank.lending.read import market
from p2pbank.statistics.queries import statistics

bp = Blueprint("main", __name__)


@bp.get("/")
def index():
    """The front door: a few live figures, open listings and campaigns, no sign-in."""
    session = db_session()
    return render_template(
        "main/index.html",
        stats=statistics(session, clock.now().date()),
        listings=market.marketplace(session, None, per_page=4).listings,
        campaigns=catalogue.explore(session, per_page=3).items,
    )


@bp.get("/dashboard")
@login_required
def dashboard():
    return render_template("main/dashboard.html", user=current_user)


@bp.get("/healthz")
def healthz():
    """The process is up; says nothing about its dependencies."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """Ready to serve: every readiness check (p2pbank.readiness) passed in time."""
    app = current_app._get_current_object()
    results = readiness.run_checks(app, float(app.config["READINESS_TIMEOUT"]))
    ready = all(result.ok for result in results.values())
    database = results.get("database")
    body = {
        "status": "ok" if ready else "unavailable",
        "database": "up" if database is not None and database.ok else "down",
        "checks": {name: {"ok": r.ok, "detail": r.detail} for name, r in results.items()},
    }
    return jsonify(body), 200 if ready else 503
