"""The one clock of the service.

Every timestamp that has legal weight (``received_at``, deadlines, delivery times) comes from
here, never from the client (Decree 283/2026 fines late declarations: the time of receipt is
evidence). Tests freeze it with :func:`freeze`.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

#: Vietnam has one time zone and no daylight saving time.
VIETNAM_TZ = timezone(timedelta(hours=7), "ICT")

_frozen: datetime | None = None


def now() -> datetime:
    """The current time, timezone-aware, in UTC."""
    if _frozen is not None:
        return _frozen
    return datetime.now(UTC)


def freeze(at: datetime | None) -> None:
    """Freeze the clock at ``at`` (aware), or unfreeze it with ``None``. For tests only."""
    global _frozen
    if at is not None and at.tzinfo is None:
        raise ValueError("a frozen time must carry an offset")
    _frozen = at.astimezone(UTC) if at is not None else None


def advance(delta: timedelta) -> None:
    """Move a frozen clock forward. For tests only."""
    global _frozen
    if _frozen is None:
        raise RuntimeError("the clock is not frozen")
    _frozen = _frozen + delta


def vietnam_time(moment: datetime) -> datetime:
    return moment.astimezone(VIETNAM_TZ)
