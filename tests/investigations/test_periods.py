"""The periods of Law 84/2015 Art. 35.6 and the Civil Code's counting (Arts. 147–148), as pure
functions: ``due_at = end of roll(received_date + days)``, in Vietnam time."""

from __future__ import annotations

import json
import logging
from datetime import date, datetime
from importlib import resources

import pytest

from app import holidays
from app.clock import vietnam_time
from app.investigations import periods


def _due(received: str, days: int | None) -> str | None:
    due = periods.due_at(received_at=datetime.fromisoformat(received), days=days)
    return None if due is None else vietnam_time(due).isoformat()


@pytest.mark.parametrize(
    ("dead", "seriously_injured", "minor_injury", "assessment", "days"),
    [
        (1, 0, 0, False, 30),
        (1, 3, 2, False, 30),
        (0, 2, 0, False, 20),
        (0, 5, 1, False, 20),
        (0, 1, 0, False, 7),
        (0, 1, 4, False, 7),
        (0, 0, 1, False, 4),
        (0, 0, 0, False, None),
        (1, 0, 0, True, 60),
        (0, 1, 0, True, 60),
        (0, 0, 1, True, 60),
        (0, 0, 0, True, None),
    ],
)
def test_base_period_follows_the_victims(
    dead: int, seriously_injured: int, minor_injury: int, assessment: bool, days: int | None
) -> None:
    assert (
        periods.base_days(
            dead=dead,
            seriously_injured=seriously_injured,
            minor_injury=minor_injury,
            assessment_required=assessment,
        )
        == days
    )


def test_the_contracts_example_friday_afternoon_fatal_report() -> None:
    # Day 30 is Sunday 3 January 2027: rolled to Monday 4 January, due at its end.
    assert _due("2026-12-04T16:00:00+07:00", 30) == "2027-01-05T00:00:00+07:00"


def test_a_period_starts_the_day_after_receipt_whatever_the_hour() -> None:
    assert _due("2026-11-30T00:00:00+07:00", 4) == _due("2026-11-30T23:59:59+07:00", 4)
    assert _due("2026-11-30T23:59:59+07:00", 4) == "2026-12-05T00:00:00+07:00"


def test_receipt_is_dated_in_vietnam_time() -> None:
    # 18:00 UTC on 30 November is 01:00 on 1 December in Vietnam.
    assert _due("2026-11-30T18:00:00+00:00", 7) == _due("2026-12-01T01:00:00+07:00", 7)


def test_a_last_day_on_saturday_moves_to_monday() -> None:
    # Tuesday 1 December 2026 + 4 = Saturday 5 December.
    assert _due("2026-12-01T09:00:00+07:00", 4) == "2026-12-08T00:00:00+07:00"


def test_a_last_day_on_a_working_day_stays() -> None:
    assert _due("2026-12-01T09:00:00+07:00", 7) == "2026-12-09T00:00:00+07:00"


def test_new_years_day_moves_to_the_next_working_day() -> None:
    # Friday 1 January 2027 (holiday), then the weekend: Monday 4 January.
    assert _due("2026-12-28T09:00:00+07:00", 4) == "2027-01-05T00:00:00+07:00"


def test_a_period_across_the_year_end() -> None:
    # 2026-12-25 + 7 = Friday 1 January 2027: a holiday, then a weekend.
    assert _due("2026-12-25T15:00:00+07:00", 7) == "2027-01-05T00:00:00+07:00"
    # 2026-12-10 + 20 = Wednesday 30 December 2026: a working day.
    assert _due("2026-12-10T15:00:00+07:00", 20) == "2026-12-31T00:00:00+07:00"


def test_tet_2027_moves_the_last_day_past_the_holiday() -> None:
    # 2027-01-05 + 30 = Thursday 4 February 2027, the first day of Tết off (4–10 February):
    # the next working day is Thursday 11 February.
    assert _due("2027-01-05T09:00:00+07:00", 30) == "2027-02-12T00:00:00+07:00"
    # Landing on Tết's Sunday 7 February.
    assert _due("2027-01-08T09:00:00+07:00", 30) == "2027-02-12T00:00:00+07:00"


def test_a_period_that_only_crosses_tet_is_not_lengthened() -> None:
    # Calendar days count (Civil Code Art. 147): only the last day rolls.
    assert _due("2027-02-03T09:00:00+07:00", 20) == "2027-02-24T00:00:00+07:00"


def test_no_period_no_deadline() -> None:
    assert _due("2026-12-04T16:00:00+07:00", None) is None


def test_every_year_from_2024_to_2027_has_dated_holidays_with_sources() -> None:
    assert {2024, 2025, 2026, 2027} <= set(holidays.years_with_data())
    for year in (2024, 2025, 2026, 2027):
        text = resources.files("app.holidays").joinpath("data", f"{year}.json").read_text("utf-8")
        document = json.loads(text)
        assert document["year"] == year
        assert document["sources"]
        for entry in document["holidays"]:
            day = date.fromisoformat(entry["date"])
            assert day.year == year
            assert day.weekday() < 5, f"{day} is a weekend day: the weekend rolls anyway"
            assert entry["basis"]
        assert date(year, 1, 1) in holidays.holidays_of(year) or date(year, 1, 1).weekday() >= 5


def test_a_year_without_data_counts_weekends_only_and_warns_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    holidays.holidays_of.cache_clear()
    with caplog.at_level(logging.WARNING, logger="app.holidays"):
        first = _due("2198-12-28T09:00:00+07:00", 4)
        second = _due("2198-12-27T09:00:00+07:00", 5)
    # 2198-12-28 + 4 = Tuesday 1 January 2199: no data, so not a holiday for tnld.
    assert first == "2199-01-02T00:00:00+07:00"
    assert second == "2199-01-02T00:00:00+07:00"
    warnings = [r for r in caplog.records if "2199" in r.getMessage()]
    assert len(warnings) == 1
