"""What a matrix row is: a route, the status each caller gets, and the objects it needs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

ANONYMOUS, OTHER, OWNER, ADMIN, AUDITOR = "anonymous", "other", "owner", "admin", "auditor"
CALLERS = (ANONYMOUS, OTHER, AUDITOR, ADMIN, OWNER)  # the owner last: they may change things
LOGIN = "login"  # a 302 to the sign-in page


@dataclass
class World:
    """The people of one matrix row and the session their objects are made in."""

    session: object
    owner: object
    other: object
    admin: object


@dataclass
class Objects:
    """What an `objects` function made: path placeholders, and private strings that only
    the owner (and, where a row allows, the admin) may see."""

    path: dict[str, object] = field(default_factory=dict)
    private: list[str] = field(default_factory=list)


def no_objects(_world: World) -> Objects:
    """For rows whose route needs no objects."""
    return Objects()


@dataclass(frozen=True)
class Row:
    """One route of the matrix and the status each caller gets."""

    method: str
    path: str  # as in url_map, with {placeholders} instead of <converters>
    anonymous: int | str
    other: int | str
    owner: int | str
    admin: int | str
    objects: Callable[[World], Objects] = no_objects
    data: dict = field(default_factory=dict)  # form fields or JSON body
    roles: tuple[str, ...] = ()  # roles of owner and other
    kyc: str = "verified"  # KYC status of owner and other
    admin_sees_private: bool = False
    auditor: int | str | None = None  # None: auditors are not asked

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def id(self) -> str:
        return f"{self.method} {self.path}"
