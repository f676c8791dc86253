"""Pages validate with the same marshmallow schemas as the API."""

from __future__ import annotations

from flask import request
from marshmallow import EXCLUDE, Schema, ValidationError, fields


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
        return None, exc.messages  # type: ignore[return-value]
