"""The public-holiday data against an independent source: the ``holidays`` package (0.109),
which follows Labour Code 2019 Art. 112 and the announced swaps. tnld's files are the
authority (they cite the official notices); this check catches a typo or a forgotten day."""

from __future__ import annotations

import holidays as holidays_package
import pytest

from app import holidays


@pytest.mark.parametrize("year", [2024, 2025, 2026, 2027])
def test_weekdays_off_agree_with_the_holidays_package(year: int) -> None:
    theirs = {
        day
        for day in holidays_package.country_holidays("VN", years=year)
        if day.weekday() < 5 and day.year == year
    }
    assert holidays.holidays_of(year) == theirs
