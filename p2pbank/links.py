"""Absolute links that leave the site (mail, gateway return addresses), built from the
configured BASE_URL and never from the request: a forged Host header cannot put its own
address into a password-reset mail. Works in a request, in a CLI command or in a worker."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Flask, current_app


def absolute_url(endpoint: str, **values: object) -> str:
    """`url_for(endpoint, **values)` as a full address under the configured BASE_URL."""
    return absolute_url_in(current_app, endpoint, **values)


def absolute_url_in(app: Flask, endpoint: str, **values: object) -> str:
    """The same for an explicit app (no application context needed)."""
    base = urlsplit(app.config["BASE_URL"])
    adapter = app.url_map.bind(
        base.netloc, script_name=base.path or "/", url_scheme=base.scheme
    )
    return adapter.build(endpoint, values, force_external=True)
