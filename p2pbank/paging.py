"""One way to page a list: `paginate` counts and slices in SQL, so a page costs the same
with ten rows or a million (never load everything to show fifty)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from marshmallow import Schema, fields
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


def pages_for(total: int, per_page: int) -> int:
    """How many pages `total` rows fill (at least one, so "page 1 of 1" when empty)."""
    return max(1, -(-total // per_page))


@dataclass(frozen=True, kw_only=True)
class Paged:
    """What every page of a list knows about its place: which page, how many per page and
    in all. A screen's page type adds its rows (`class MarketPage(Paged): listings: ...`)."""

    page: int
    per_page: int
    total: int

    @property
    def pages(self) -> int:
        return pages_for(self.total, self.per_page)

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def has_prev(self) -> bool:
        return self.page > 1


def paginate(
    session: Session, stmt: Select[Any], page: int, per_page: int
) -> tuple[list[Any], int]:
    """The rows of page `page` (1-based) of the ordered `stmt`, and the total row count."""
    total = session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery()))
    rows = session.execute(stmt.limit(per_page).offset((page - 1) * per_page)).all()
    return list(rows), int(total or 0)


class PagedOut(Schema):
    """How the API shows a `Paged`: its place in the list; a screen's schema adds its rows."""

    page = fields.Integer()
    per_page = fields.Integer()
    total = fields.Integer()
    pages = fields.Integer()
