"""English and Dutch: the language comes from the person's setting, else Accept-Language;
the Dutch catalog translates every message it holds and its compiled form is current."""

from __future__ import annotations

from pathlib import Path

import pytest
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

import p2pbank
from tests.support.people import STRONG_PASSWORD

TRANSLATIONS = Path(p2pbank.__file__).parent / "translations"
DUTCH_PO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.po"
DUTCH_MO = TRANSLATIONS / "nl" / "LC_MESSAGES" / "messages.mo"
NL = {"Accept-Language": "nl-NL,nl;q=0.9,en;q=0.5"}


def _dutch_catalog():
    with DUTCH_PO.open("rb") as handle:
        return read_po(handle, locale="nl")


# --- pages in Dutch ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "dutch", "english"),
    [
        ("/", "Lenen en financieren, van mens tot mens", "Lend and fund, person to person"),
        ("/", "Account aanmaken", "Create an account"),
        ("/login", "E-mailadres", "E-mail address"),
        ("/login", "Wachtwoord", "Password"),
        ("/login", "Inloggen", "Sign in"),
        ("/signup", "Maak je account aan", "Create your account"),
        ("/signup", "Wachtwoord (minstens 12 tekens)", "Password (at least 12 characters)"),
        ("/signup", "geld uitlenen", "lend money"),
    ],
)
def test_accept_language_nl_renders_dutch(client, path, dutch, english):
    page = client.get(path, headers=NL)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert '<html lang="nl">' in html
    assert dutch in html
    assert english not in html


@pytest.mark.parametrize(
    "accept", [None, "en", "en-GB,en;q=0.9", "fr-FR,fr;q=0.9", "de;q=1, en;q=0.1", "*"]
)
def test_english_otherwise(client, accept):
    headers = {"Accept-Language": accept} if accept else {}
    html = client.get("/login", headers=headers).get_data(as_text=True)
    assert '<html lang="en">' in html
    assert "E-mail address" in html and "E-mailadres" not in html


def test_the_best_supported_language_wins(client):
    html = client.get("/", headers={"Accept-Language": "fr;q=1, nl;q=0.8, en;q=0.5"})
    assert "Lenen en financieren" in html.get_data(as_text=True)


def _set_language(browser, locale: str):
    response = browser.submit("/settings/language", {"locale": locale})
    assert response.status_code == 302, response.get_data(as_text=True)


def test_a_persons_setting_overrides_the_browser(signed_in, make_user, session):
    user = make_user(name="Nina")
    browser = signed_in(user)
    _set_language(browser, "nl")
    session.refresh(user)
    assert user.locale == "nl"
    page = browser.get("/dashboard", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Hallo, Nina" in page and "Hello, Nina" not in page
    _set_language(browser, "en")
    page = browser.get("/dashboard", headers=NL).get_data(as_text=True)
    assert "Hello, Nina" in page and "Hallo, Nina" not in page


def test_following_the_browser_again(signed_in, make_user, session):
    user = make_user(name="Nina")
    browser = signed_in(user)
    _set_language(browser, "nl")
    _set_language(browser, "")
    session.refresh(user)
    assert user.locale is None
    assert "Hello, Nina" in browser.get("/dashboard").get_data(as_text=True)
    assert "Hallo, Nina" in browser.get("/dashboard", headers=NL).get_data(as_text=True)


def test_error_pages_in_dutch(client):
    page = client.get("/no-such-page", headers=NL)
    assert page.status_code == 404
    html = page.get_data(as_text=True)
    assert "Niet gevonden" in html
    assert "was not found" not in html


def test_form_errors_in_dutch(web):
    token_page = web.get("/signup", headers=NL)
    from tests.support.pages import csrf_from

    response = web.client.post(
        "/signup",
        data={"csrf_token": csrf_from(token_page.get_data(as_text=True))},
        headers=NL,
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "Dit veld is verplicht." in html
    assert "Missing data for required field." not in html


def test_flash_messages_in_dutch(web, make_user):
    user = make_user()
    web.login(user.email, STRONG_PASSWORD)
    page = web.submit("/dashboard", {}, action="/logout", follow_redirects=True, headers=NL)
    assert "Je bent uitgelogd." in page.get_data(as_text=True)


def test_the_api_stays_in_english(client):
    """Machine clients get the same problem text whatever their Accept-Language."""
    body = client.get("/api/v1/me", headers=NL).get_json()
    assert body["title"] == "Authentication required"


# --- the catalog ---------------------------------------------------------------------------


def test_every_message_has_a_dutch_translation():
    catalog = _dutch_catalog()
    assert len(catalog) > 100, "the Dutch catalog is nearly empty"
    untranslated, fuzzy = [], []
    for message in catalog:
        if not message.id:
            continue  # the header
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if not all(s and s.strip() for s in strings):
            untranslated.append(message.id)
        if message.fuzzy:
            fuzzy.append(message.id)
    assert not untranslated, f"{len(untranslated)} messages lack Dutch: {untranslated[:20]}"
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy[:20]}"


def test_translations_keep_their_placeholders():
    """A translation that drops or renames %(name)s would crash or mislead at run time."""
    problems = [
        f"{message.id!r}: {errors}"
        for message, errors in _dutch_catalog().check()
        if errors and message.id
    ]
    assert not problems, "\n".join(problems)


def test_the_compiled_catalog_matches_the_source():
    """Edited the .po but forgot `pybabel compile`? Then pages show the old text."""

    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    source = {plain(m.id): plain(m.string) for m in _dutch_catalog() if m.id}
    with DUTCH_MO.open("rb") as handle:
        compiled = {plain(m.id): plain(m.string) for m in read_mo(handle) if m.id}
    assert compiled == source


def test_package_data_ships_the_compiled_catalogs():
    import tomllib

    pyproject = Path(p2pbank.__file__).parent.parent / "pyproject.toml"
    data = tomllib.loads(pyproject.read_text())["tool"]["setuptools"]["package-data"]
    patterns = data["p2pbank"]
    assert any(p.startswith("translations/") for p in patterns)
    assert DUTCH_MO.is_file()
