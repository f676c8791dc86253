"""Page blueprints."""

from __future__ import annotations

from flask import Flask


def init_web(app: Flask) -> None:
    from p2pbank.web import (
        admin,
        audit,
        auth,
        crowdfunding,
        crowdfunding_initiator,  # noqa: F401 (adds its routes to crowdfunding.bp)
        crowdfunding_investor,  # noqa: F401 (adds its routes to crowdfunding.bp)
        ledger,
        lending,
        lending_lender,  # noqa: F401 (adds its routes to lending.bp)
        mail,
        main,
        notifications,
        password_reset,
        payments,
        payments_out,  # noqa: F401 (adds its routes to payments.bp)
        questions,
        resale,
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
        resale,
        mail,
        notifications,
    ):
        app.register_blueprint(module.bp)
    app.register_blueprint(payments.webhook_bp)

    from p2pbank.links import absolute_url
    from p2pbank.web.filters import register_filters
    from p2pbank.web.nav import register_nav

    app.jinja_env.globals["absolute_url"] = absolute_url  # gateway return addresses
    register_filters(app)
    register_nav(app)
