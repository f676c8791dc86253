"""Page blueprints."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    from p2pbank.web import (
        admin,
        audit,
        auth,
        crowdfunding,
        ledger,
        lending,
        main,
        password_reset,
        payments,
        questions,
        settings,
        statistics,
        trust,
        twofactor,
    )

    app.register_blueprint(main.bp)
    app.register_blueprint(auth.bp)
    app.register_blueprint(ledger.bp)
    for module in (
        twofactor,
        password_reset,
        settings,
        admin,
        audit,
        payments,
        lending,
        crowdfunding,
        trust,
        statistics,
        questions,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(payments.webhook_bp)

    from p2pbank.links import absolute_url
    from p2pbank.web.filters import register_filters
    from p2pbank.web.nav import register_nav

    app.jinja_env.globals["absolute_url"] = absolute_url  # gateway return addresses
    register_filters(app)
    register_nav(app)
