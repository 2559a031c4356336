"""Vietnam's public holidays, as dated data per year (``data/<year>.json``).

Labour Code 2019 Art. 112.1 sets the holidays (1 January; Tết, 5 days set each year by the
Prime Minister; Hùng Kings' day; 30 April; 1 May; 2 September and one day beside it), Art. 111.3
the compensatory day when one falls on a weekly rest day; each year's announcement fixes Tết and
any swapped days. Every file names its sources and says where a date is an estimate.

A year without a file counts weekends only, and a warning is logged once for that year: a
deadline one or two days early is safer than a crash, and the log tells the operator to add
the year's file.
"""

from __future__ import annotations

import json
import logging
from datetime import date
from functools import cache
from importlib import resources

logger = logging.getLogger(__name__)


@cache
def holidays_of(year: int) -> frozenset[date]:
    """The weekdays off for a public holiday in ``year``; empty (and a warning, once per
    year) when tnld has no data for that year."""
    source = resources.files(__package__).joinpath("data", f"{year}.json")
    if not source.is_file():
        logger.warning(
            "No public-holiday data for %d: deadlines in that year count weekends only "
            "(add app/holidays/data/%d.json)",
            year,
            year,
        )
        return frozenset()
    document = json.loads(source.read_text(encoding="utf-8"))
    return frozenset(date.fromisoformat(entry["date"]) for entry in document["holidays"])


def years_with_data() -> list[int]:
    folder = resources.files(__package__).joinpath("data")
    return sorted(int(entry.name[:4]) for entry in folder.iterdir() if entry.name.endswith(".json"))


def is_working_day(day: date) -> bool:
    """Not a Saturday, Sunday or public holiday (Civil Code 2015 Art. 148.5)."""
    return day.weekday() < 5 and day not in holidays_of(day.year)
