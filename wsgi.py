"""WSGI entry point: `gunicorn wsgi:app`."""

from p2pbank.app import create_app
from p2pbank.logging_setup import configure_logging

configure_logging()
app = create_app()
