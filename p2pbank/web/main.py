"""Home, dashboard and health checks."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify, render_template
from flask_login import current_user, login_required
from sqlalchemy import text

from p2pbank import clock
from p2pbank.crowdfunding import queries as crowdfunding_queries
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
        campaigns=crowdfunding_queries.explore(session, per_page=3).items,
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
    """Ready to serve: the database answers."""
    try:
        db_session().execute(text("SELECT 1"))
    except Exception:  # any driver error means not ready
        current_app.logger.exception("readiness check failed")
        return jsonify(status="unavailable", database="down"), 503
    return jsonify(status="ok", database="up")
