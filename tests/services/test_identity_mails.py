"""The account's own mails speak the reader's language: a reset in the person's saved
language (else the asking page's), a sign-up link in the language of the page that asked
for it (there is no account yet)."""

from __future__ import annotations

import pytest

from p2pbank.identity import reset_services, services, signup_services
from tests.dutch import speak_pending_dutch
from tests.support.mail import mails_to
from tests.support.people import STRONG_PASSWORD

LINK = "https://p2pbank.test/link"


@pytest.fixture(autouse=True)
def _dutch(monkeypatch):
    speak_pending_dutch(monkeypatch)


def _reset(session, email: str, language: str | None = None) -> str | None:
    return reset_services.request_password_reset(
        session, email, ttl_seconds=3600, link_for=lambda t: f"{LINK}/{t}", language=language
    )


def test_a_reset_mail_in_dutch_and_one_in_english(session, make_user):
    ans = make_user(name="Ans")
    services.set_locale(session, ans.id, "nl")
    bob = make_user(name="Bob")
    services.set_locale(session, bob.id, "en")
    dutch_link = _reset(session, ans.email, language="en")  # her own choice wins
    english_link = _reset(session, bob.email, language="nl")

    (dutch,) = mails_to(session, ans.email)
    assert dutch.subject == "Stel een nieuw wachtwoord in voor p2pbank"
    assert dutch.body.startswith("Hallo Ans,\n\niemand heeft gevraagd het wachtwoord")
    assert "binnen 60 minuten" in dutch.body and dutch_link in dutch.body
    (english,) = mails_to(session, bob.email)
    assert english.subject == "Reset your p2pbank password"
    assert english.body.startswith("Hello Bob,\n\nsomeone asked to reset the password")
    assert "within 60 minutes" in english.body and english_link in english.body


def test_without_a_saved_language_the_reset_follows_the_asking_page(session, make_user):
    cas = make_user(name="Cas")
    _reset(session, cas.email, language="nl")
    _reset(session, cas.email)
    dutch, english = mails_to(session, cas.email)
    assert dutch.subject == "Stel een nieuw wachtwoord in voor p2pbank"
    assert english.subject == "Reset your p2pbank password"


def test_the_password_changed_mail_is_in_the_saved_language(session, make_user):
    ans = make_user(name="Ans")
    services.set_locale(session, ans.id, "nl")
    secret = _reset(session, ans.email).rsplit("/", 1)[1]
    reset_services.reset_password(session, secret, "a-brand-new-secret-77")
    changed = mails_to(session, ans.email)[-1]
    assert changed.subject == "Je wachtwoord is gewijzigd"
    assert "elke ingelogde sessie is beëindigd" in changed.body


def _sign_up(session, email: str, language: str | None) -> str | None:
    return signup_services.request_sign_up(
        session,
        email=email,
        display_name="Nina",
        password=STRONG_PASSWORD,
        language=language,
        ttl_seconds=7200,
        link_for=lambda t: f"{LINK}/{t}",
        sign_in_link=f"{LINK}/login",
        reset_link=f"{LINK}/forgot",
    )


def test_the_sign_up_link_is_in_the_language_of_the_asking_page(session, make_user):
    dutch_link = _sign_up(session, "nina@example.test", "nl")
    english_link = _sign_up(session, "nora@example.test", "en")
    (dutch,) = mails_to(session, "nina@example.test")
    assert dutch.subject == "Rond je aanmelding bij p2pbank af"
    assert dutch.body.startswith("Hallo Nina,") and "binnen 2 uur" in dutch.body
    assert dutch_link in dutch.body
    (english,) = mails_to(session, "nora@example.test")
    assert english.subject == "Finish signing up for p2pbank"
    assert "within 2 hours" in english.body and english_link in english.body


def test_someone_signing_up_with_a_taken_address_warns_in_the_owners_language(session, make_user):
    tess = make_user(email="tess@example.test", name="Tess")
    services.set_locale(session, tess.id, "nl")
    assert _sign_up(session, "tess@example.test", "en") is None
    (warning,) = mails_to(session, tess.email)[-1:]
    assert warning.subject == "Iemand probeerde zich met jouw adres aan te melden"
    assert f"Inloggen: {LINK}/login\nWachtwoord vergeten? {LINK}/forgot" in warning.body
