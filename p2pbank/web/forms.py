"""What every page with a form shares: reading the form with the API's marshmallow schema,
the idempotency key a form carries, and showing a refusal, either on the form (its field
errors) or, for a button, as a flash message on the page it was pressed on.

A refusal that is not a mistake to correct stays an error page: by default another
person's object (404) and an action the person may not take (403).
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Mapping

from flask import flash, redirect, request, url_for
from marshmallow import EXCLUDE, Schema, ValidationError, fields

from p2pbank.errors import DomainError

# The statuses that go to the error page instead of the form (see the module's docstring).
ERROR_PAGES = frozenset({403, 404})
# Pages whose every refusal, a 403 included, is something the person can act on (finish the
# identity check, add an account) show it on the form; only the server's trouble is a page.
SERVER_ERRORS = range(500, 600)
# Pages that show only a conflict (409) or a refused field (422) on the form: for them
# every other refusal, a 401, 403 or 404, is an error page.
ALL_BUT_CONFLICTS = frozenset(range(400, 600)) - {409, 422}


def form_data(schema: Schema) -> dict:
    """The submitted form as the schema expects it: lists for List fields, else one value."""
    raw = request.form.to_dict(flat=False)
    out: dict = {}
    for key, values in raw.items():
        field = schema.fields.get(key)
        out[key] = values if isinstance(field, fields.List) else values[0]
    return out


def load_form(schema: Schema) -> tuple[dict | None, dict]:
    """(data, {}) when valid, else (None, field errors). Unknown fields such as the CSRF
    token are ignored on pages; the API refuses them."""
    try:
        return schema.load(form_data(schema), unknown=EXCLUDE), {}
    except ValidationError as exc:
        return None, exc.messages


def new_form_key() -> str:
    """A fresh idempotency key for a form to carry, so a double submit is done once."""
    return uuid.uuid4().hex


def form_key(form: Mapping[str, str] | None = None) -> str:
    """The idempotency key a form was submitted with, so a form shown again repeats it;
    a fresh one when it came without (the first showing)."""
    submitted = (request.form if form is None else form).get("idempotency_key")
    return submitted or new_form_key()


def form_errors(
    refusal: DomainError | Mapping[str, list[str]],
    *,
    renamed: Mapping[str, str] | None = None,
    shown: Collection[str] | None = None,
    no_field: str = "_",
    error_pages: Collection[int] = ERROR_PAGES,
) -> dict:
    """A refusal (or a schema's errors) as its form shows them: each field's messages under
    the form's name for it (`renamed`: services speak in minor units, `amount_minor`, where
    the form says `amount`), a refusal of no field above the form ("_") or, on a form of
    one field, beside it (`no_field`), and when the form shows only some fields (`shown`)
    the others' messages above it too.

    A refusal whose status is in `error_pages` is raised again, to be an error page."""
    if isinstance(refusal, DomainError):
        if refusal.status in error_pages:
            raise refusal
        errors: Mapping[str, list[str]] = refusal.field_errors or {no_field: [refusal.detail]}
    else:
        errors = refusal
    fitted: dict = {}
    for name, messages in errors.items():
        name = (renamed or {}).get(name, name)
        if shown is not None and name not in shown:
            name = "_"
        fitted.setdefault(name, []).extend(messages)
    return fitted


def form_errors_with_summary(refusal: DomainError, *, renamed: Mapping[str, str]) -> dict:
    """Like `form_errors`, and the refusal's message above the form as well: the campaign
    and pledge forms are long, so the reason must show where the person starts reading,
    not only beside a field further down."""
    errors = form_errors(refusal, renamed=renamed)
    errors.setdefault("_", [refusal.detail])
    return errors


def refused(refusal: DomainError, endpoint: str, **values):
    """A button refused by a rule: say why, as a flash message, on the page it was pressed
    on (`endpoint` with its `values`). A 404 or 403 stays an error page."""
    if refusal.status in ERROR_PAGES:
        raise refusal
    flash(refusal.detail, "error")
    return redirect(url_for(endpoint, **values))
