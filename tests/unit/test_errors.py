"""The one constructor for field refusals: the message lands on the field and as summary."""

from p2pbank.errors import ValidationFailed


def test_on_puts_the_message_on_the_field():
    exc = ValidationFailed.on("amount", "Too much.")
    assert (exc.detail, exc.field_errors, exc.status) == (
        "Too much.",
        {"amount": ["Too much."]},
        422,
    )


def test_of_keeps_every_field_and_summarizes_with_the_first():
    exc = ValidationFailed.of({"title": ["Too short."], "goal": ["Too small.", "Whole euros."]})
    assert exc.detail == "Too short."
    assert exc.field_errors == {"title": ["Too short."], "goal": ["Too small.", "Whole euros."]}
