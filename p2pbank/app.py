"""Application factory: config, engine, extensions, blueprints and the one error dispatcher."""

from __future__ import annotations

import logging
import time
import uuid
from pathlib import Path

from flask import Flask, g, request
from flask_babel import Babel, get_locale
from flask_login import LoginManager

from p2pbank import url_ids
from p2pbank.audit.keys import pseudonym_key_source, session_info
from p2pbank.config import Config
from p2pbank.db import (
    Timeouts,
    close_db_session,
    make_engine,
    make_sessionmaker,
    set_reads_only,
)
from p2pbank.extensions import csrf, limiter
from p2pbank.ratelimit_storage import storage_uri

log = logging.getLogger("p2pbank")

LOCALES = ("en", "nl")


def create_app(config: Config | None = None) -> Flask:
    """Build the app. No I/O beyond creating the engine; migrations never run here."""
    config = config or Config.from_env()
    app = Flask(
        __name__,
        instance_path=config.INSTANCE_PATH,
        template_folder="web/templates",
        static_folder="web/static",
    )
    url_ids.install(app)  # before any route: ids past their column's range are 404
    _configure(app, config)
    _init_database(app, config)
    _init_mail(app, config)
    csrf.init_app(app)
    limiter.init_app(app)
    Babel(app, locale_selector=_select_locale)
    app.jinja_env.globals["get_locale"] = get_locale  # base.html: <html lang=...>
    _init_login(app)
    _init_request_logging(app)
    _init_routes(app)

    import p2pbank.runtime.checks  # noqa: F401 - registers the worker's readiness checks
    from p2pbank.cli import register_cli

    register_cli(app)
    return app


def _configure(app: Flask, config: Config) -> None:
    """Settings, the host check that runs first, the hash cost, the trusted proxies."""
    app.config.from_mapping(config.as_flask())
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=config.is_production,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=config.is_production,
        WTF_CSRF_TIME_LIMIT=None,
        BABEL_TRANSLATION_DIRECTORIES="translations",
        RATELIMIT_STORAGE_URI=_ratelimit_storage_uri(config),
        RATELIMIT_HEADERS_ENABLED=True,
        RATELIMIT_ENABLED=config.RATELIMIT_ENABLED,
        API_TITLE="p2pbank API",
        API_VERSION="v1",
        OPENAPI_VERSION="3.1.0",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
    )
    app.p2p_config = config
    from p2pbank.web.errors import refuse_unknown_host

    app.before_request(refuse_unknown_host)  # first: a forged Host reaches nothing else
    if config.ARGON2_COST == "test":
        from p2pbank.identity import passwords

        passwords.set_cost(passwords.TEST_COST)

    if config.TRUSTED_PROXY_COUNT:
        # Believe only the addresses the proxies themselves appended: the client's address
        # (per-IP limits) and scheme (HSTS, secure cookies). X-Forwarded-Host is not used:
        # the Host header is checked against TRUSTED_HOSTS and links come from BASE_URL.
        from werkzeug.middleware.proxy_fix import ProxyFix

        count = config.TRUSTED_PROXY_COUNT
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=count, x_proto=count)


def _init_database(app: Flask, config: Config) -> None:
    engine = make_engine(config.DATABASE_URL, _timeouts(config))
    app.extensions["p2pbank.engine"] = engine
    app.extensions["p2pbank.sessionmaker"] = make_sessionmaker(engine)
    # Sessions carry the trust log's pseudonym key (resolved on first use), so audit.append
    # needs no configuration object.
    app.extensions["p2pbank.sessionmaker"].configure(
        info=session_info(pseudonym_key_source(app.config))
    )
    app.teardown_appcontext(close_db_session)
    app.before_request(lambda: set_reads_only(request.method in ("GET", "HEAD", "OPTIONS")))
    app.teardown_request(lambda _exc: set_reads_only(False))


def _init_mail(app: Flask, config: Config) -> None:
    from p2pbank.mail import transport as mail_transport

    mail_transport.install(
        mail_transport.settings_for(
            env=config.ENV,
            smtp_url=config.SMTP_URL,
            mail_from=config.MAIL_FROM,
            base_url=app.config["BASE_URL"],
            instance_path=config.INSTANCE_PATH,
        )
    )


def _init_routes(app: Flask) -> None:
    from p2pbank.api import init_api
    from p2pbank.web import init_web
    from p2pbank.web.errors import register_error_dispatcher
    from p2pbank.web.security import register_security_headers

    init_api(app)
    init_web(app)
    # After the API: flask-smorest registers an app-wide HTTPException handler; ours wins.
    register_error_dispatcher(app)
    register_security_headers(app)


def _timeouts(config: Config) -> Timeouts:
    return Timeouts(
        connect_seconds=config.DB_CONNECT_TIMEOUT or None,
        statement_ms=config.DB_STATEMENT_TIMEOUT_MS or None,
        sqlite_busy_ms=config.DB_BUSY_TIMEOUT_MS,
        pool_seconds=config.DB_POOL_TIMEOUT or None,
    )


def _ratelimit_storage_uri(config: Config) -> str:
    """Counters every worker shares: configured, Redis, else a file in the instance folder.
    Test suites count in memory, so each app they build starts from zero."""
    if config.RATELIMIT_STORAGE_URI:
        return config.RATELIMIT_STORAGE_URI
    if config.REDIS_URL:
        return config.REDIS_URL
    if config.TESTING:
        return "memory://"
    return storage_uri(str(Path(config.INSTANCE_PATH) / "ratelimits.sqlite3"))


def _select_locale() -> str | None:
    from flask_login import current_user

    if getattr(current_user, "is_authenticated", False) and current_user.locale in LOCALES:
        return current_user.locale
    return request.accept_languages.best_match(LOCALES) or "en"


def _init_login(app: Flask) -> None:
    manager = LoginManager(app)
    manager.login_view = "auth.login"
    manager.session_protection = "strong"

    @manager.user_loader
    def load_user(key: str):
        """The session cookie names a sign-in; an ended or unknown one is no one. One
        indexed lookup (plus the roles), as cheap as loading the user by id."""
        from p2pbank.db import db_session
        from p2pbank.identity import sign_ins

        return sign_ins.user_for(db_session(), key)


def _init_request_logging(app: Flask) -> None:
    @app.before_request
    def _start() -> None:
        incoming = request.headers.get("X-Request-Id", "")
        g.request_id = (
            incoming if 8 <= len(incoming) <= 64 and incoming.isalnum() else uuid.uuid4().hex
        )
        g.request_started = time.perf_counter()

    @app.after_request
    def _finish(response):
        response.headers["X-Request-Id"] = g.get("request_id", "")
        elapsed = (time.perf_counter() - g.get("request_started", time.perf_counter())) * 1000
        log.info("%s %s %s %.1fms", request.method, request.path, response.status_code, elapsed)
        return response
