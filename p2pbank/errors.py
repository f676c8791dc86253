"""Domain errors: services raise these; one dispatcher turns them into HTTP answers."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the command; `status` is the HTTP code it maps to."""

    status = 400
    title = "Bad request"

    def __init__(self, detail: str, *, field_errors: dict[str, list[str]] | None = None):
        super().__init__(detail)
        self.detail = detail
        self.field_errors = field_errors or {}


class NotFound(DomainError):
    status = 404
    title = "Not found"


class Forbidden(DomainError):
    status = 403
    title = "Forbidden"


class Conflict(DomainError):
    status = 409
    title = "Conflict"


class InvalidState(Conflict):
    title = "Invalid state"


class InsufficientFunds(Conflict):
    title = "Insufficient funds"


class ValidationFailed(DomainError):
    status = 422
    title = "Validation failed"

    @classmethod
    def on(cls, field: str, message: str) -> ValidationFailed:
        """The refusal of one field: `raise ValidationFailed.on("amount", "Too much.")`."""
        return cls(message, field_errors={field: [message]})

    @classmethod
    def of(cls, errors: dict[str, list[str]]) -> ValidationFailed:
        """The refusal of several fields at once; the first message is the summary."""
        return cls(next(iter(errors.values()))[0], field_errors=errors)


class Unauthorized(DomainError):
    status = 401
    title = "Authentication required"
