"""The one form field for an amount typed on a page: text such as '250' or '1,250.50' in,
exact minor units out (parsed by `money_text.parse_amount`, never through a float), and
shown back the same way. Marshmallow only, so pages and the API share it."""

from __future__ import annotations

from marshmallow import fields

from p2pbank.money_text import parse_amount


class AmountText(fields.Field):
    """An amount in euros as people type it -> minor units."""

    default_error_messages = {"invalid": "Enter an amount such as 25.00."}

    def _deserialize(self, value, attr, data, **kwargs) -> int:
        if not isinstance(value, str):
            raise self.make_error("invalid")
        try:
            return parse_amount(value)
        except ValueError as exc:
            raise self.make_error("invalid") from exc

    def _serialize(self, value, attr, obj, **kwargs):
        return None if value is None else f"{value // 100}.{value % 100:02d}"
