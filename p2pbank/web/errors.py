"""One error dispatcher for pages and API: domain errors, HTTP errors, the unexpected."""

from __future__ import annotations

import json
import logging
from urllib.parse import unquote_to_bytes

from flask import Flask, Request, current_app, g, jsonify, render_template, request
from flask_babel import gettext
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import BadRequest, HTTPException, SecurityError

from p2pbank.db import db_session
from p2pbank.errors import DomainError

log = logging.getLogger("p2pbank.errors")

PROBLEM = "application/problem+json"


def N_(text: str) -> str:
    """Marks a message for the translation catalog. API problems stay in English; pages
    translate the message where they show it (see `page_error`)."""
    return text


NOT_TEXT = N_("The request body is not valid UTF-8 text.")
TRY_AGAIN = N_("Wait a while and try again.")
UNAVAILABLE = N_("The service is temporarily unavailable.")
RACED = N_(
    "Another request changed the same thing at the same moment, and this one was undone. "
    "Try again: a request with the same idempotency key will not be done twice."
)
# SQLSTATEs of a transaction that lost a race, not of a broken one: unique violation,
# serialization failure, deadlock detected.
RACE_STATES = frozenset({"23505", "40001", "40P01"})


def lost_a_race(exc: DBAPIError) -> bool:
    """True when the database undid the transaction because a concurrent one won (the same
    idempotency key or row written twice, a deadlock, a serialization failure): the
    request is sound and may be retried, so the answer is 409, not 500 or 503."""
    orig = exc.orig
    state = getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)
    if state is not None:
        return state in RACE_STATES
    return isinstance(exc, IntegrityError) and "UNIQUE constraint failed" in str(orig)


def _bad_text(value: str) -> bool:
    """NUL or a lone surrogate: text no database column can store."""
    if "\x00" in value:
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


class CheckedRequest(Request):
    """Form bodies must be UTF-8 text. Werkzeug would otherwise keep `%FF` as the literal
    text "%FF", silently drop a body with raw invalid bytes, and turn invalid bytes in a
    multipart field into U+FFFD; here each of those is a 400 before anything runs."""

    def _load_form_data(self) -> None:
        if self.mimetype == "application/x-www-form-urlencoded":
            body = self.get_data(cache=True)  # the form is parsed from this cached copy
            try:
                for pair in body.split(b"&"):
                    for piece in pair.split(b"=", 1):
                        if _bad_text(unquote_to_bytes(piece.replace(b"+", b" ")).decode()):
                            raise ValueError
            except ValueError:
                raise BadRequest(NOT_TEXT) from None
        super()._load_form_data()
        if self.mimetype == "multipart/form-data":
            for value in self.form.values():
                if "\ufffd" in value or _bad_text(value):
                    raise BadRequest(NOT_TEXT)


def _json_strings(document) -> bool:
    """True when every key and string in a parsed JSON document is storable text."""
    stack = [document]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if _bad_text(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def refuse_unusable_json() -> None:
    """JSON bodies: refuse nesting deep enough to exhaust the parser, integers longer than
    Python reads, and NUL or lone surrogates written as \\u escapes (valid JSON, but not
    storable text)."""
    if not request.is_json or request.method not in ("POST", "PUT", "PATCH", "DELETE"):
        return
    body = request.get_data(cache=True)
    if not body:
        return
    try:
        document = json.loads(body)
    except RecursionError:
        raise BadRequest(N_("The JSON body is nested too deeply.")) from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        return  # malformed JSON: the parser of the endpoint answers 400
    except ValueError:
        # Python's limit on integer digits (4,300), which the endpoint's parser does not
        # treat as a syntax error and would let through as a 500.
        raise BadRequest(N_("A number in the JSON body has too many digits.")) from None
    if not _json_strings(document):
        raise BadRequest(NOT_TEXT)


def refuse_unusable_query() -> None:
    """Query strings: a NUL or lone surrogate in any name or value is a 400 before a view
    runs. PostgreSQL cannot take NUL in text, so a search for it failed in the query."""
    for name, values in request.args.lists():
        if _bad_text(name) or any(_bad_text(value) for value in values):
            raise BadRequest(N_("The query string is not valid text."))


UNKNOWN_HOST = "This site does not answer to that host name."


def refuse_unknown_host():
    """A Host outside TRUSTED_HOSTS: answer 400 before anything else runs. Flask keeps the
    refusal as the routing error and leaves no URL adapter, so nothing later (CSRF, pages
    with links) could even build its answer."""
    if isinstance(request.routing_exception, SecurityError):
        log.warning("refused a request for an unknown host")
        if wants_problem_json():
            return problem(400, "Bad request", UNKNOWN_HOST)
        return current_app.response_class(UNKNOWN_HOST + "\n", 400, mimetype="text/plain")
    return None


def wants_problem_json() -> bool:
    return request.path.startswith("/api/") or request.path.startswith("/webhooks/")


def problem(status: int, title: str, detail: str, errors: dict | None = None, **extra):
    """An RFC 9457 problem document."""
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.path,
        "request_id": g.get("request_id", ""),
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = jsonify(body)
    response.status_code = status
    response.mimetype = PROBLEM
    return response


def page_error(status: int, title: str, detail: str):
    """The error page, in the reader's language where the catalog knows the message."""
    return (
        render_template(
            "errors/error.html",
            status=status,
            title=title,
            detail=gettext(detail),
            request_id=g.get("request_id", ""),
        ),
        status,
    )


def _field_errors(exc: HTTPException) -> dict | None:
    data = getattr(exc, "data", None) or {}
    messages = data.get("messages") if isinstance(data, dict) else None
    if not messages:
        return None
    # webargs nests by location ({"json": {...}}); flatten a single location away.
    if len(messages) == 1:
        (only,) = messages.values()
        if isinstance(only, dict):
            return only
    return messages


def _domain_error(exc: DomainError):
    if wants_problem_json():
        return problem(exc.status, exc.title, exc.detail, exc.field_errors or None)
    return page_error(exc.status, exc.title, exc.detail)


def _csrf_error(exc: CSRFError):
    detail = N_("The form expired or was not sent from this site. Reload the page and try again.")
    if wants_problem_json():
        return problem(400, "Bad request", detail)
    return page_error(400, N_("Bad request"), detail)


def _http_error(exc: HTTPException):
    status = exc.code or 500
    title = exc.name
    detail = exc.description or title
    sentences = [detail]
    if status == 429:
        # A limit with its own message (e.g. sign-in) says which limit was hit.
        limit = getattr(exc, "limit", None)
        own = getattr(limit, "error_message", None)
        first = own if isinstance(own, str) and own else N_("Too many attempts.")
        sentences = [first, TRY_AGAIN]
    if status == 413:
        sentences = [N_("The request is too large.")]
    detail = " ".join(sentences)
    if wants_problem_json():
        response = problem(status, title, detail, _field_errors(exc))
    else:
        shown = " ".join(gettext(sentence) for sentence in sentences)
        response = current_app.make_response(page_error(status, title, shown))
    for key, value in exc.get_headers() if hasattr(exc, "get_headers") else []:
        if key.lower() in ("retry-after", "allow", "www-authenticate"):
            response.headers[key] = value
    retry = getattr(exc, "retry_after", None)
    if status == 429 and "Retry-After" not in response.headers:
        response.headers["Retry-After"] = str(retry or 60)
    return response


def _integrity_error(exc: IntegrityError):
    if lost_a_race(exc):
        return _raced()
    return _unexpected(exc)


def _raced():
    log.info("request lost a race in the database; answered 409")
    db_session().rollback()  # the error page may read (the signed-in member)
    if wants_problem_json():
        response = problem(409, "Conflict", RACED)
    else:
        response = current_app.make_response(page_error(409, N_("Conflict"), RACED))
    response.headers["Retry-After"] = "1"
    return response


def _database_unavailable(exc: Exception):
    """The database did not answer in time (connect, statement or lock timeout, no
    free connection) or refused: 503 with Retry-After, never a 500. A deadlock or a
    serialization failure is a lost race instead: 409."""
    if isinstance(exc, DBAPIError) and lost_a_race(exc):
        return _raced()
    log.warning("database unavailable: %s", str(exc).splitlines()[0][:300])
    # Nothing below may ask the database again (the page's navigation would load the
    # signed-in member): render for an anonymous visitor.
    g._login_user = current_app.login_manager.anonymous_user()
    if wants_problem_json():
        response = problem(503, "Service Unavailable", f"{UNAVAILABLE} {TRY_AGAIN}")
    else:
        shown = f"{gettext(UNAVAILABLE)} {gettext(TRY_AGAIN)}"
        response = current_app.make_response(page_error(503, N_("Service Unavailable"), shown))
    response.headers["Retry-After"] = "30"
    return response


def _unexpected(exc: Exception):
    log.exception("unhandled error")
    detail = N_("Something went wrong on our side. Quote the request id when you contact us.")
    if wants_problem_json():
        return problem(500, "Internal server error", detail)
    return page_error(500, N_("Internal server error"), detail)


def register_error_dispatcher(app: Flask) -> None:
    app.request_class = CheckedRequest
    app.before_request(refuse_unusable_json)
    app.before_request(refuse_unusable_query)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(IntegrityError, _integrity_error)
    app.register_error_handler(OperationalError, _database_unavailable)
    app.register_error_handler(PoolTimeout, _database_unavailable)
    app.register_error_handler(Exception, _unexpected)
