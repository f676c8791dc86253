"""Step code for features/identity: sign-up, sign-in, lockout, roles, two-factor."""

from __future__ import annotations

import re
from datetime import timedelta

from pytest_bdd import given, scenarios, then, when
from sqlalchemy import select

from p2pbank import clock
from p2pbank.identity import services, twofactor, twofactor_services
from p2pbank.identity.models import RoleGrant, User
from tests.support.mail import mails_to, sign_up_path
from tests.support.pages import Browser
from tests.support.people import STRONG_PASSWORD
from tests.support.stories import email_of, parse_roles, phrase

scenarios("identity/sign_up_and_sign_in.feature")
scenarios("identity/too_many_failed_sign_ins.feature")
scenarios("identity/lender_and_borrower.feature")
scenarios("identity/two_factor.feature")

ANONYMOUS = "someone"


# --- signing up ----------------------------------------------------------------------------


def _sign_up(story, session, name: str, roles: list[str], password: str, email: str = ""):
    response = story.browser(name).submit(
        "/signup",
        {
            "email": email or email_of(name),
            "display_name": name,
            "password": password,
            "roles": roles,
        },
    )
    story.remember(name, response)
    return response


@when(phrase("{name:Name} signs up as a {roles:Roles} with a strong password"))
@when(phrase("{name:Name} signs up as an {roles:Roles} with a strong password"))
def _signs_up_as(story, session, name, roles):
    _sign_up(story, session, name, parse_roles(roles), STRONG_PASSWORD)


@when(phrase('{name:Name} signs up with the password "{password}"'))
def _signs_up_with_password(story, session, name, password):
    _sign_up(story, session, name, [], password)


@when(phrase("someone else signs up with {name:Name}'s e-mail address"))
def _someone_else_signs_up(story, session, name):
    _sign_up(story, session, ANONYMOUS, [], STRONG_PASSWORD, email=story.person(name).email)


@then(phrase("{name:Name} is asked to check her mail"))
@then(phrase("{name:Name} is asked to check his mail"))
def _asked_to_check_mail(story, name):
    assert story.last_by[name].status_code == 200
    assert "Check your mail" in story.text(name)


@when(phrase("{name:Name} opens the sign-up link in her mail and confirms"))
@when(phrase("{name:Name} opens the sign-up link in his mail and confirms"))
def _confirms_sign_up(story, session, name):
    browser = story.browser(name)
    link = sign_up_path(session, email_of(name))
    response = browser.submit(link, {})
    assert response.status_code == 302, response.status_code
    story.people[name] = services.find_user_by_email(session, email_of(name))
    story.remember(name, browser.get(response.headers["Location"]))


@then(phrase('{name:Name} gets a mail "{subject}"'))
def _gets_mail(story, session, name, subject):
    subjects = [mail.subject for mail in mails_to(session, story.person(name).email)]
    assert subject in subjects, subjects


@then(phrase("{name:Name} still has one account, with her own password"))
def _still_own_account(story, session, name):
    user = story.person(name)
    assert services.find_user_by_email(session, user.email).id == user.id
    assert Browser(story.app.test_client()).login(user.email).status_code == 302


@then(phrase('they are not told "{text}"'))
def _they_are_not_told(story, text):
    assert text not in story.text(ANONYMOUS), f"{text!r} is on the page"


@then(phrase("there is no account for {name:Name}"))
def _no_account(session, name):
    assert services.find_user_by_email(session, email_of(name)) is None


@then(phrase('they are told "{text}"'))
def _they_are_told(story, text):
    assert text in story.text(ANONYMOUS), f"{text!r} is not on the page"


# --- signing in ----------------------------------------------------------------------------


@when(phrase("someone signs in as {email}"))
def _someone_signs_in_as(story, email):
    story.remember(ANONYMOUS, story.browser(ANONYMOUS).login(email, STRONG_PASSWORD))


@when(phrase("{name:Name} opens {path} without being signed in"))
def _opens_anonymously(story, name, path):
    story.remember(name, story.browser(name).get(path))


@then(phrase("{name:Name} is asked to sign in"))
def _asked_to_sign_in(story, name):
    response = story.last_by[name]
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    page = story.browser(name).get(response.headers["Location"])
    assert page.status_code == 200
    assert 'name="password"' in page.get_data(as_text=True)


# --- too many failed sign-ins --------------------------------------------------------------


@when(
    phrase("someone tries to sign in as {name:Name} with a wrong password {times:d} times"),
    target_fixture="attacker",
)
def _wrong_password_times(story, name, times):
    attacker = story.browser(ANONYMOUS)
    for attempt in range(times):
        response = attacker.login(story.person(name).email, f"wrong-guess-{attempt:04d}-xyz")
        assert response.status_code == 401, f"attempt {attempt + 1} got {response.status_code}"
    return attacker


@when(phrase("{name:Name} signs in from her own computer"))
@when(phrase("{name:Name} signs in from his own computer"))
def _signs_in_from_elsewhere(story, name):
    browser = story.browser(name)
    browser.client.environ_base["REMOTE_ADDR"] = "203.0.113.44"  # not the guesser's address
    story.remember(name, browser.login(story.person(name).email))


@when(phrase("someone tries {count:d} different e-mail addresses from one place"))
def _many_addresses(story, count):
    attacker = story.browser(ANONYMOUS)
    for n in range(count):
        response = attacker.login(f"guess{n}@example.test", "wrong-guess-password-1")
        assert response.status_code == 401, f"attempt {n + 1} got {response.status_code}"


@then(
    phrase(
        "the next sign-in as {name:Name} from that place is refused, even with the right password"
    )
)
def _next_refused(story, name):
    response = story.browser(ANONYMOUS).login(story.person(name).email, STRONG_PASSWORD)
    story.remember(ANONYMOUS, response)
    assert response.status_code == 429, response.get_data(as_text=True)
    assert story.browser(ANONYMOUS).get("/dashboard").status_code == 302


@then(phrase('the answer says "{text}"'))
def _answer_says(story, text):
    assert text in story.text(ANONYMOUS), story.text(ANONYMOUS)


@then(phrase("the answer says when to try again"))
def _retry_after(story):
    retry = story.last.headers.get("Retry-After", "")
    assert retry.isdigit() and int(retry) > 0, f"Retry-After is {retry!r}"


# --- roles ---------------------------------------------------------------------------------


@then(phrase("{name:Name} holds the roles {roles:Roles}"))
def _holds_roles(story, session, name, roles):
    wanted = sorted(parse_roles(roles))
    user = session.scalar(select(User).where(User.email == email_of(name)))
    session.refresh(user)
    assert sorted(user.role_names) == wanted
    # and the dashboard says so, in the person's own browser (signing in if needed)
    browser = story.browser(name)
    if browser.get("/dashboard").status_code != 200:
        browser = Browser(story.app.test_client())
        assert browser.login(user.email).status_code == 302
    html = browser.get("/dashboard").get_data(as_text=True)
    for role in wanted:
        assert f'<span class="tag">{role}</span>' in html, f"{role} is not on the dashboard"


@when(phrase("{name:Name} also becomes a {role}"))
@when(phrase("{name:Name} also becomes an {role}"))
def _takes_role(story, name, role):
    response = story.browser(name).submit("/settings/roles", {"role": role}, follow_redirects=True)
    story.remember(name, response)


@when(phrase('{admin:Name} makes {name:Name} an {role} because "{reason}"'))
@when(phrase('{admin:Name} makes {name:Name} a {role} because "{reason}"'))
def _admin_grants(story, admin, name, role, reason):
    person_page = f"/admin/people/{story.person(name).id}"
    response = story.browser(admin).submit(
        person_page,
        {"role": role, "action": "grant", "reason": reason},
        action=f"{person_page}/roles",
        follow_redirects=True,
    )
    story.remember(admin, response)


@then(phrase("{name:Name} is asked to set up two-factor sign-in first"))
def _asked_to_enrol(story, name):
    response = story.browser(name).get("/dashboard")
    assert response.status_code == 303, response.status_code
    assert response.headers["Location"].endswith("/settings/two-factor")
    page = story.browser(name).get("/settings/two-factor").get_data(as_text=True)
    assert "requires two-factor sign-in" in page


def _grants(session, user_id: int) -> list[RoleGrant]:
    return list(
        session.scalars(
            select(RoleGrant).where(RoleGrant.user_id == user_id).order_by(RoleGrant.id)
        )
    )


@then(phrase("the record shows {name:Name} took the roles {roles:Roles} herself"))
@then(phrase("the record shows {name:Name} took the roles {roles:Roles} himself"))
@then(phrase("the record shows {name:Name} took the roles {roles:Roles} themselves"))
def _self_granted(story, session, name, roles):
    user = story.person(name)
    wanted = set(parse_roles(roles))
    taken = {g.role for g in _grants(session, user.id) if g.action == "grant"}
    assert wanted <= taken
    for grant in _grants(session, user.id):
        if grant.role in wanted:
            assert grant.granted_by_id in (None, user.id), "someone else granted it"


@then(phrase('the record shows {admin:Name} gave {name:Name} the role {role} because "{reason}"'))
def _admin_granted(story, session, admin, name, role, reason):
    grants = [g for g in _grants(session, story.person(name).id) if g.role == role]
    assert len(grants) == 1
    assert grants[0].action == "grant"
    assert grants[0].granted_by_id == story.person(admin).id
    assert grants[0].reason == reason


@then(phrase("the API lists the roles {roles:Roles}"))
def _api_roles(story, roles):
    assert story.last.json["roles"] == sorted(parse_roles(roles))


# --- two-factor sign-in --------------------------------------------------------------------

SECRET_ON_PAGE = re.compile(r'<code id="totp-secret">([A-Z2-7 ]+)</code>')
RECOVERY_CODES_ON_PAGE = re.compile(r"<li><code>([^<]+)</code></li>")


@when(phrase("{name:Name} sets up two-factor sign-in with her authenticator app"))
@when(phrase("{name:Name} sets up two-factor sign-in with his authenticator app"))
@when(phrase("{name:Name} sets up two-factor sign-in with their authenticator app"))
def _sets_up_two_factor(story, name):
    browser = story.browser(name)
    started = browser.submit(
        "/settings/two-factor", {}, action="/settings/two-factor/start", follow_redirects=True
    )
    match = SECRET_ON_PAGE.search(started.get_data(as_text=True))
    assert match, "the set-up page shows no key to type into the app"
    secret = match.group(1).replace(" ", "")  # what the person types into their app
    response = browser.submit(
        "/settings/two-factor",
        {"code": twofactor.code_at(secret, clock.now())},
        action="/settings/two-factor/confirm",
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    story.remember(name, response)
    story.note(name)["secret"] = secret
    story.note(name)["recovery_codes"] = RECOVERY_CODES_ON_PAGE.findall(
        response.get_data(as_text=True)
    )


@then(phrase("{name:Name} is shown {count:d} recovery codes to keep"))
def _shown_recovery_codes(story, name, count):
    codes = story.note(name)["recovery_codes"]
    assert len(codes) == len(set(codes)) == count
    assert "shown only this once" in story.text(name)
    assert story.last_by[name].headers.get("Cache-Control") == "no-store"


@given(phrase("a member {name:Name} who uses two-factor sign-in"))
def _member_with_two_factor(story, make_user, session, name):
    user = make_user(email=email_of(name), name=name, two_factor=False)
    story.people[name] = user
    secret = twofactor_services.start_enrolment(session, user.id)
    codes = twofactor_services.confirm_enrolment(
        session, user.id, twofactor.code_at(secret, clock.now())
    )
    story.note(name).update(secret=secret, recovery_codes=list(codes))


@given(phrase("an admin {name:Name} who has not set up two-factor sign-in"))
def _admin_without_two_factor(story, make_user, name):
    story.people[name] = make_user(
        roles=["admin"], kyc="verified", email=email_of(name), name=name, two_factor=False
    )


@when(phrase("{name:Name} signs in with her password"))
@when(phrase("{name:Name} signs in with his password"))
@when(phrase("{name:Name} signs in with their password"))
def _signs_in_with_password_only(story, name):
    story.remember(name, story.browser(name).login(story.person(name).email, second_factor=False))


@then(phrase("{name:Name} is asked for her two-factor code"))
@then(phrase("{name:Name} is asked for his two-factor code"))
@then(phrase("{name:Name} is asked for their two-factor code"))
def _asked_for_code(story, name):
    response = story.last_by[name]
    assert response.status_code in (302, 303), response.status_code
    assert response.headers["Location"].split("?")[0].endswith("/login/two-factor")
    page = story.browser(name).get(response.headers["Location"])
    assert page.status_code == 200
    assert 'name="code"' in page.get_data(as_text=True)


def _type_code(story, name: str, code: str) -> None:
    story.note(name)["last_code"] = code
    response = story.browser(name).submit(
        "/login/two-factor", {"code": code}, follow_redirects=True
    )
    story.remember(name, response)


@when(phrase("a minute later {name:Name} types the code from her app"))
@when(phrase("a minute later {name:Name} types the code from his app"))
@when(phrase("a minute later {name:Name} types the code from their app"))
def _types_app_code(story, name):
    clock.set_now(clock.now() + timedelta(minutes=1))
    _type_code(story, name, twofactor.code_at(story.note(name)["secret"], clock.now()))


@when(phrase('{name:Name} types the code "{code}"'))
def _types_given_code(story, name, code):
    _type_code(story, name, code)


@when(phrase("{name:Name} types the same code again"))
@when(phrase("{name:Name} types the same recovery code again"))
def _types_same_code(story, name):
    _type_code(story, name, story.note(name)["last_code"])


@when(phrase("{name:Name} types one of her recovery codes"))
@when(phrase("{name:Name} types one of his recovery codes"))
@when(phrase("{name:Name} types one of their recovery codes"))
def _types_recovery_code(story, name):
    _type_code(story, name, story.note(name)["recovery_codes"][0])
