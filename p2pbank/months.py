"""Calendar months, the one way: the same day some months later (or earlier), clamped to
the last day of a shorter month. Loan due dates and crowdfunding windows both use it."""

from __future__ import annotations

import calendar
from datetime import date
from typing import TypeVar

D = TypeVar("D", bound=date)


def add_months(moment: D, months: int) -> D:
    """`moment` (a date or a datetime, which keeps its time) moved by whole months."""
    index = moment.year * 12 + (moment.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
