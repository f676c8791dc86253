"""Bad input on pages and API: each gets a clear 4xx and nothing is written.

"Nothing written" is checked by counting the rows of every table before and after.
The API part is driven by the OpenAPI document, so every JSON endpoint added later is
checked too: unknown fields, wrong types, over-long strings, strict integers.
"""

from __future__ import annotations

import json
import re

import pytest
from marshmallow import Schema, ValidationError, fields, validate
from sqlalchemy import select

from p2pbank.identity.models import User
from tests.support.database import row_counts
from tests.support.mail import sign_up_path
from tests.support.pages import assert_problem, csrf_from
from tests.support.people import STRONG_PASSWORD

FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def nothing_written(session):
    """Use as `with nothing_written(): ...`; fails if any table gained or lost rows."""
    from contextlib import contextmanager

    @contextmanager
    def _check():
        before = row_counts(session)
        yield
        session.expire_all()
        after = row_counts(session)
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        assert not changed, f"rows changed: {changed}"

    return _check


def assert_error_page(response, status: int) -> str:
    assert response.status_code == status, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    assert f"{status} ·" in html  # the error page names the status
    return html


# --- pages: raw bodies ---------------------------------------------------------------------


def _signup_token(web) -> bytes:
    return csrf_from(web.get("/signup").get_data(as_text=True)).encode()


def _raw_signup(web, fields_part: bytes, content_type: str = FORM):
    body = b"csrf_token=" + _signup_token(web) + b"&" + fields_part
    return web.client.post("/signup", data=body, content_type=content_type)


GOOD_FIELDS = b"email=nina%40example.test&password=correct-horse-battery-42"


@pytest.mark.parametrize(
    "display_name",
    [
        pytest.param(b"Nina\xff\xfe", id="raw-invalid-bytes"),
        pytest.param(b"Nina%FF", id="percent-encoded-invalid-byte"),
        pytest.param(b"Nina%C3", id="truncated-sequence"),
        pytest.param(b"Nina%ED%A0%80", id="encoded-surrogate"),
        pytest.param(b"Ni%00na", id="nul-character"),
        pytest.param(b"Nina\xc0\xaf", id="overlong-encoding"),
    ],
)
def test_non_utf8_form_body_is_refused(web, nothing_written, display_name):
    with nothing_written():
        response = _raw_signup(web, GOOD_FIELDS + b"&display_name=" + display_name)
        html = assert_error_page(response, 400)
        assert "UTF-8" in html
    assert web.get("/dashboard").status_code == 302  # not signed in


def test_valid_utf8_text_is_accepted(web, session):
    """The guard refuses broken text, not foreign text."""
    name = "Zoë Ñandú 日本 😀"
    response = _raw_signup(web, GOOD_FIELDS + b"&display_name=" + name.encode().replace(b" ", b"+"))
    assert response.status_code == 200, response.get_data(as_text=True)
    user = _confirm_sign_up(web, session, "nina@example.test")
    assert user.display_name == name


def _confirm_sign_up(web, session, email: str) -> User:
    """Follow the mailed sign-up link to the account."""
    assert web.submit(sign_up_path(session, email), {}).status_code == 302
    return session.scalar(select(User).where(User.email == email))


def test_non_utf8_multipart_field_is_refused(web, nothing_written):
    token = _signup_token(web).decode()
    boundary = "xYzZY"
    parts = [
        ("csrf_token", token.encode()),
        ("email", b"nina@example.test"),
        ("password", STRONG_PASSWORD.encode()),
        ("display_name", b"Nina\xff"),
    ]
    body = (
        b"".join(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value
            + b"\r\n"
            for name, value in parts
        )
        + f"--{boundary}--\r\n".encode()
    )
    with nothing_written():
        response = web.client.post(
            "/signup", data=body, content_type=f"multipart/form-data; boundary={boundary}"
        )
        assert "UTF-8" in assert_error_page(response, 400)


def test_non_utf8_sign_in_is_refused(web, make_user):
    make_user(email="ann@example.test")
    token = csrf_from(web.get("/login").get_data(as_text=True)).encode()
    body = b"csrf_token=" + token + b"&email=ann%40example.test\xff&password=x"
    response = web.client.post("/login", data=body, content_type=FORM)
    assert_error_page(response, 400)
    assert web.get("/dashboard").status_code == 302


def test_huge_form_body_is_413(web, app, nothing_written):
    limit = app.config["MAX_CONTENT_LENGTH"]
    with nothing_written():
        response = _raw_signup(web, GOOD_FIELDS + b"&display_name=" + b"a" * (limit + 1))
        assert "too large" in assert_error_page(response, 413)


def test_json_body_to_a_page_is_refused(web, nothing_written):
    with nothing_written():
        response = web.client.post(
            "/signup",
            json={"email": "nina@example.test", "display_name": "N", "password": STRONG_PASSWORD},
        )
        assert_error_page(response, 400)


# --- pages: field values -------------------------------------------------------------------


def _signup(web, **overrides):
    data = {
        "email": "nina@example.test",
        "display_name": "Nina",
        "password": STRONG_PASSWORD,
        **overrides,
    }
    return web.submit("/signup", data)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("display_name", "N" * 81, "Length must be between 1 and 80."),
        ("display_name", "", "Length must be between 1 and 80."),
        ("email", "n" * 250 + "@example.test", "Longer than maximum length 254."),
        ("email", "not-an-address", "Not a valid email address."),
        ("password", "p4ss-" * 52, "Longer than maximum length 256."),
        ("roles", "superuser", "Must be one of"),
        ("roles", "admin", "Must be one of"),
    ],
)
def test_bad_sign_up_fields_are_422_with_the_field_marked(
    web, nothing_written, field, value, message
):
    with nothing_written():
        response = _signup(web, **{field: value})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        assert message in html
        if field != "roles":
            assert f'id="e-{field}"' in html  # the message sits at its field


def test_missing_sign_up_fields_are_422(web, nothing_written):
    with nothing_written():
        response = web.submit("/signup", {})
        assert response.status_code == 422
        html = response.get_data(as_text=True)
        for name in ("email", "display_name", "password"):
            assert f'id="e-{name}"' in html


def test_unknown_page_fields_are_ignored_not_obeyed(web, session):
    """Pages ignore fields they do not know (the CSRF token is one); they never act on them."""
    response = _signup(web, is_admin="1", kyc_status="verified", session_epoch="7")
    assert response.status_code == 200
    user = _confirm_sign_up(web, session, "nina@example.test")
    assert user.role_names == frozenset()
    assert user.kyc_status == "unverified" and user.session_epoch == 0


def test_over_long_sign_in_is_refused_without_a_session(web, make_user):
    make_user(email="ann@example.test")
    response = web.submit("/login", {"email": "a" * 300 + "@example.test", "password": "x"})
    assert response.status_code == 401
    assert web.get("/dashboard").status_code == 302


def test_over_long_new_password_changes_nothing(signed_in, make_user, session):
    user = make_user()
    before = user.password_hash
    response = signed_in(user).submit(
        "/settings/password",
        {"current_password": STRONG_PASSWORD, "new_password": "n3w-" * 70},
    )
    assert response.status_code == 422
    session.refresh(user)
    assert user.password_hash == before


# --- API: raw bodies -----------------------------------------------------------------------


@pytest.fixture
def writer(make_user, api_token):
    return api_token(make_user(), "write")


def _post_raw(client, headers, body: bytes, content_type="application/json"):
    return client.post("/api/v1/tokens", data=body, content_type=content_type, headers=headers)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param(b'{"name": "x", "scope": "read"', 400, id="truncated-json"),
        pytest.param(b"{name: 'x'}", 400, id="not-json"),
        pytest.param(b'{"name": "caf\xe9", "scope": "read"}', 400, id="latin-1-bytes"),
        pytest.param(b'\xff\xfe{\x00"\x00}\x00', 400, id="utf-16-garbage"),
        pytest.param(b'{"name": "\\ud800", "scope": "read"}', 400, id="lone-surrogate-escape"),
        pytest.param(b'{"\\udfff": 1, "scope": "read"}', 400, id="lone-surrogate-in-key"),
        pytest.param(b'{"name": "a\\u0000b", "scope": "read"}', 400, id="nul-escape"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, 400, id="nested-too-deeply"),
        pytest.param(b"", 422, id="empty-body"),
        pytest.param(b"[]", 422, id="array-not-object"),
        pytest.param(b'"name"', 422, id="string-not-object"),
        pytest.param(b"null", 422, id="null-not-object"),
    ],
)
def test_broken_json_is_a_clear_problem(client, writer, nothing_written, body, status):
    with nothing_written():
        problem = assert_problem(_post_raw(client, writer, body), status)
        assert problem["detail"]


def test_surrogate_pairs_are_fine(client, writer):
    """An escaped emoji is a valid surrogate *pair*: accepted."""
    response = _post_raw(client, writer, b'{"name": "phone \\ud83d\\ude00", "scope": "read"}')
    assert response.status_code == 201
    assert response.json["name"] == "phone \U0001f600"


def test_non_utf8_form_body_to_the_api_is_a_problem(client, writer, nothing_written):
    with nothing_written():
        response = _post_raw(client, writer, b"name=caf\xe9&scope=read", FORM)
        assert 400 <= response.status_code < 500
        assert_problem(response, response.status_code)


def test_huge_json_body_is_413(client, app, writer, nothing_written):
    limit = app.config["MAX_CONTENT_LENGTH"]
    body = json.dumps({"name": "x" * limit, "scope": "read"}).encode()
    with nothing_written():
        problem = assert_problem(_post_raw(client, writer, body), 413)
        assert "too large" in problem["detail"]


def test_huge_body_is_refused_before_authentication(client, app, nothing_written):
    """No token, no reading a megabyte: the size limit answers first or the token does."""
    body = b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    with nothing_written():
        response = _post_raw(client, {}, body)
        assert response.status_code in (401, 413)
        assert_problem(response, response.status_code)


# --- API: every JSON endpoint, from the OpenAPI document ----------------------------------


def _json_operations(client) -> list[tuple[str, str, dict]]:
    """(method, path with ids filled in, resolved request schema) for every JSON body."""
    doc = client.get("/api/v1/openapi.json").json
    schemas = doc["components"]["schemas"]
    found = []
    for path, item in sorted(doc["paths"].items()):
        for method, operation in sorted(item.items()):
            if method not in ("post", "put", "patch", "delete") or not isinstance(operation, dict):
                continue
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            concrete = path
            for param in operation.get("parameters", []) + item.get("parameters", []):
                if isinstance(param, dict) and param.get("in") == "path":
                    enum = param.get("schema", {}).get("enum")  # e.g. listing | campaign
                    value = str(enum[0]) if enum else "1"
                    concrete = concrete.replace("{" + param["name"] + "}", value)
            found.append((method.upper(), concrete, schema))
    return found


def _wrong_values(prop: dict) -> list[object]:
    """Values of the wrong type for a property, and values outside its limits."""
    kind = prop.get("type")
    kinds = set(kind) if isinstance(kind, list) else {kind}
    values: list[object] = []
    if "integer" in kinds:
        values += ["12", 2.5, True, [1]]
        if "maximum" in prop:
            values.append(prop["maximum"] + 1)
        if "minimum" in prop:
            values.append(prop["minimum"] - 1)
    if "number" in kinds:
        values += ["12.5", [1.0]]
    if "string" in kinds:
        values += [12345, ["text"], {"text": "x"}]
        if "maxLength" in prop:
            values.append("x" * (prop["maxLength"] + 1))
        if "enum" in prop:
            values.append("not-one-of-" + "-".join(str(v) for v in prop["enum"]))
    if "boolean" in kinds:
        values += ["maybe", 2]
    if "array" in kinds:
        values += ["not-a-list", 7]
    if "null" not in kinds and "nullable" not in prop:
        values.append(None)
    return values


def _cases(client):
    for method, path, schema in _json_operations(client):
        yield method, path, "unknown field", {"definitely_not_a_field": 1}, "definitely_not_a_field"
        for name, prop in sorted(schema.get("properties", {}).items()):
            if prop.get("readOnly"):
                continue
            for value in _wrong_values(prop):
                yield method, path, f"{name}={value!r}"[:60], {name: value}, name


def test_every_json_endpoint_refuses_bad_fields(client, writer, session):
    """Unknown fields, wrong types (a string or 2.5 for an integer, a number for a string),
    over-long strings, values out of range: 422 problem naming the field, nothing written."""
    cases = list(_cases(client))
    assert any(c[1] == "/api/v1/tokens" for c in cases)  # the document was read
    failures = []
    for method, path, label, body, field in cases:
        before = row_counts(session)
        response = client.open(path, method=method, json=body, headers=writer)
        problem = response.get_json(silent=True) or {}
        ok = (
            response.status_code == 422
            and response.mimetype == "application/problem+json"
            and field in problem.get("errors", {})
        )
        session.expire_all()
        if not ok or row_counts(session) != before:
            failures.append(f"{method} {path} [{label}] -> {response.status_code} {problem}")
    assert not failures, "\n".join(failures)


# --- money and counts: strict integers in every schema -------------------------------------


def _all_schemas() -> list[type[Schema]]:
    import importlib
    import pkgutil

    import p2pbank

    for module in pkgutil.walk_packages(p2pbank.__path__, "p2pbank."):
        if module.name.endswith(".schemas"):
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    return [s for s in subclasses(Schema) if s.__module__.startswith("p2pbank.")]


OUTPUT_OR_QUERY = re.compile(r"Out(?:[A-Z]|$)|Query$")  # UserOut, TierOutMin, PageQuery


def test_every_money_input_is_a_strict_ranged_integer():
    """marshmallow's plain Integer turns 2.5 into 2 and "12" into 12; money inputs
    (`*_minor` fields of input schemas) refuse both and carry a range. Output schemas
    (`...Out`, `...OutMin`) and query-string schemas (`...Query`, where every value is
    text) are exempt; every integer in a JSON body is also checked over HTTP above."""
    schemas = [
        s
        for s in _all_schemas()
        if not OUTPUT_OR_QUERY.search(s.__name__) and s.__module__ != "p2pbank.api"
    ]
    assert schemas, "no input schemas found"
    loose, unbounded = [], []
    for schema_cls in schemas:
        for name, field in schema_cls._declared_fields.items():
            if field.dump_only or not isinstance(field, fields.Integer):
                continue
            if name.endswith("_minor") and not field.strict:
                loose.append(f"{schema_cls.__module__}.{schema_cls.__name__}.{name}")
            if name.endswith("_minor") and not any(
                isinstance(v, validate.Range) for v in field.validators
            ):
                unbounded.append(f"{schema_cls.__name__}.{name}")
    assert not loose, f"money fields without strict=True: {loose}"
    assert not unbounded, f"money fields without a Range: {unbounded}"


def test_strict_integer_refuses_what_plain_integer_accepts():
    """Why the rule above matters (the behaviour this project relies on)."""

    class Loose(Schema):
        amount_minor = fields.Integer()

    class Strict(Schema):
        amount_minor = fields.Integer(strict=True, validate=validate.Range(min=1))

    assert Loose().load({"amount_minor": "12"}) == {"amount_minor": 12}
    for bad in (2.5, "12", "2.5", True):
        with pytest.raises(ValidationError) as caught:
            Strict().load({"amount_minor": bad})
        assert "amount_minor" in caught.value.messages
    assert Strict().load({"amount_minor": 12}) == {"amount_minor": 12}
