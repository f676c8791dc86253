"""What every reputation rule shares: the rules' version, the member id type and months.

Every published score carries SCORE_VERSION, so an auditor can recompute it from the trust
log with exactly these rules. Any change to a rule or a constant in this package bumps it.
All times are timezone-aware datetimes (UTC by convention); `now` is always an argument.
"""

from __future__ import annotations

import calendar
from collections.abc import Hashable
from datetime import datetime, timedelta
from functools import lru_cache
from typing import TypeAlias

SCORE_VERSION = "2026-12.1"

MemberId: TypeAlias = Hashable

# Mean Gregorian month (365.2425 / 12 days): the unit in which the forgetting factor ages events.
MONTH = timedelta(seconds=2_629_746)


@lru_cache(maxsize=256)  # the job asks for the same few moments per member
def months_before(moment: datetime, months: int) -> datetime:
    """The same wall-clock time `months` calendar months earlier (day clamped: 29 Feb -> 28)."""
    total = moment.year * 12 + moment.month - 1 - months
    year, month = divmod(total, 12)
    month += 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)
