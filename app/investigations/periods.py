"""Statutory investigation periods and how they are counted.

Periods (Law 84/2015 Art. 35.6), from receipt of the notification to the announcement of the
investigation record, by the report's victims: 30 days when anyone died; 20 days when two or
more were seriously injured; 7 days for one seriously injured; 4 days for minor injuries only;
60 days once a technical assessment or forensic examination is needed. The Law sets no period
for a technical incident without victims, and tnld invents none (``due_at`` is null).

One extension, of at most the base period, for the 7, 20, 30 and 60-day cases (not the 4-day
one), approved by whoever set up the team (Art. 35.6, last paragraph): its days are added to
the base period in force, so a later change of ``assessment_required`` recomputes the base and
keeps the extension's days.

Counting (Civil Code 2015 Arts. 147–148; Law 84 has no rule of its own): a period in days
starts on the day after the event (Art. 147.1) and ends at the end (24:00) of its last day
(Art. 148.1); a last day that is a Saturday, Sunday or public holiday moves to the next working
day (Art. 148.5). Exactly (contract, Investigations):
``due_at = end of roll(received_date + base_days + extension_days)``, in Vietnam time.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from app.clock import VIETNAM_TZ, vietnam_time
from app.holidays import is_working_day

FATAL_DAYS = 30
TWO_OR_MORE_SERIOUSLY_INJURED_DAYS = 20
ONE_SERIOUSLY_INJURED_DAYS = 7
MINOR_INJURIES_DAYS = 4
ASSESSMENT_DAYS = 60


def base_days(
    *,
    dead: int,
    seriously_injured: int,
    minor_injury: int,
    assessment_required: bool,
) -> int | None:
    """The base period in days (Law 84/2015 Art. 35.6), or None where the Law sets none."""
    if not (dead or seriously_injured or minor_injury):
        return None
    if assessment_required:
        return ASSESSMENT_DAYS
    if dead:
        return FATAL_DAYS
    if seriously_injured >= 2:
        return TWO_OR_MORE_SERIOUSLY_INJURED_DAYS
    if seriously_injured == 1:
        return ONE_SERIOUSLY_INJURED_DAYS
    return MINOR_INJURIES_DAYS


def roll(day: date) -> date:
    """A last day that is a Saturday, Sunday or public holiday moves to the next working day
    (Civil Code 2015 Art. 148.5)."""
    while not is_working_day(day):
        day += timedelta(days=1)
    return day


def end_of(day: date) -> datetime:
    """24:00 of ``day`` in Vietnam time (Civil Code 2015 Art. 148.1), i.e. the next day's
    00:00+07:00, in UTC like every stored time."""
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=VIETNAM_TZ).astimezone(UTC)


def due_at(*, received_at: datetime, days: int | None) -> datetime | None:
    """The deadline of a period of ``days`` (base plus extension) from receipt; None without a
    statutory period. The period starts the day after receipt (Civil Code Art. 147.1), so its
    last day is the receipt's Vietnam date plus ``days``."""
    if days is None:
        return None
    received_date = vietnam_time(received_at).date()
    return end_of(roll(received_date + timedelta(days=days)))
