"""The outbox for admins (list, send again with CSRF, API twin) and the development-only
mail folder page a newcomer follows a password reset with."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime

from sqlalchemy import select

from p2pbank.app import create_app
from p2pbank.identity.models import OutboxMail
from p2pbank.mail import due
from p2pbank.mail.transport import install
from tests.support.database import bound_sessionmaker
from tests.support.pages import Browser


def _failed_mail(session) -> OutboxMail:
    row = OutboxMail(
        to_address="ann@example.test",
        subject="Undeliverable",
        body="secret-link-in-the-body",
        status="failed",
        attempts=6,
        last_error="SMTP 550",
    )
    session.add(row)
    session.commit()
    return row


def test_admins_see_failed_mail_without_its_body_and_send_it_again(session, make_user, signed_in):
    row = _failed_mail(session)
    browser = signed_in(make_user(roles=("admin",)))
    page = browser.get("/admin/mail")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Undeliverable" in html and "SMTP 550" in html
    assert "secret-link-in-the-body" not in html
    done = browser.submit("/admin/mail", {}, action=f"/admin/mail/{row.id}/retry")
    assert done.status_code == 302
    session.refresh(row)
    assert (row.status, row.attempts) == ("queued", 0)
    sent = browser.get("/admin/mail?status=sent")
    assert sent.status_code == 200 and "Undeliverable" not in sent.get_data(as_text=True)
    assert browser.get("/admin/mail?status=nonsense").status_code == 422


def test_the_retry_needs_the_csrf_token(session, make_user, signed_in):
    row = _failed_mail(session)
    browser = signed_in(make_user(roles=("admin",)))
    assert browser.client.post(f"/admin/mail/{row.id}/retry").status_code == 400
    session.refresh(row)
    assert row.status == "failed"


def test_the_api_twin(client, session, make_user, api_token):
    row = _failed_mail(session)
    headers = api_token(make_user(roles=("admin",)))
    listed = client.get("/api/v1/admin/mail?status=failed", headers=headers).get_json()
    assert [m["id"] for m in listed["mails"]] == [row.id]
    assert "body" not in listed["mails"][0]
    again = client.post(f"/api/v1/admin/mail/{row.id}/retry", headers=headers)
    assert again.status_code == 200 and again.get_json()["status"] == "queued"
    refused = client.get("/api/v1/admin/mail", headers=api_token(make_user()))
    assert refused.status_code == 403
    assert refused.headers["Content-Type"] == "application/problem+json"


def _development_app(config, connection, **changes):
    app = create_app(replace(config, ENV="development", **changes))
    app.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    return app


def test_development_follows_a_reset_through_the_mail_folder(
    config, connection, session, make_user
):
    app = _development_app(config, connection)
    try:
        user = make_user()
        browser = Browser(app.test_client())
        browser.submit("/password/forgot", {"email": user.email})
        assert due.run_due(session, datetime.now(UTC))["mail.sent"] >= 1
        listing = browser.get("/dev/mail").get_data(as_text=True)
        assert "Reset your p2pbank password" in listing
        mail_id = session.scalar(
            select(OutboxMail.id).where(
                OutboxMail.to_address == user.email,
                OutboxMail.subject == "Reset your p2pbank password",
            )
        )
        assert (app.instance_path + f"/mail/{mail_id}.eml").endswith(".eml")
        shown = browser.get(f"/dev/mail/{mail_id}").get_data(as_text=True)
        link = re.search(r'href="http://127\.0\.0\.1:5000(/password/reset/[^"]+)"', shown)
        assert link, "the reset link is clickable"
        assert browser.get(link.group(1)).status_code == 200
        assert browser.get("/dev/mail/999999").status_code == 404
    finally:
        install(None)


def test_the_mail_folder_page_exists_only_in_development(config, connection, client):
    assert client.get("/dev/mail").status_code == 404  # the test suite's "testing"
    production = create_app(
        replace(config, ENV="production", BASE_URL="https://p2pbank.example", SMTP_URL="smtp://m")
    )
    production.extensions["p2pbank.sessionmaker"] = bound_sessionmaker(connection)
    response = production.test_client().get("/dev/mail", base_url="https://p2pbank.example")
    assert response.status_code == 404
    install(None)
