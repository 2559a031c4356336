"""The deadline digest: every working day at ``TNLD_DEADLINE_DIGEST_AT`` (Vietnam time,
default 07:00) the labour authority is sent one list of the running investigations due within
3 working days and of those overdue (Law 84/2015 Art. 35.6 sets the periods; a missed one
cannot be undone), by e-mail and as an ``investigation.deadline`` webhook, through the outbox.

Exactly one digest a day, whatever the number of workers and restarts: the day's
``deadline_digests`` row is claimed by its primary key in the transaction that writes the
digest to the outbox. Each investigation is listed once per threshold (``deadline_alerts``):
the digest says what is new since the last one; a day with nothing new sends nothing.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import and_, exists, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth.models import Organisation, OrganisationKind
from app.clock import VIETNAM_TZ
from app.holidays import is_working_day
from app.investigations.models import ACTIVE_PREDICATE, Investigation
from app.investigations.periods import end_of
from app.notifications.models import DeadlineAlert, DeadlineDigest
from app.notifications.outbox import enqueue
from app.notifications.registry import organisation_columns
from app.notifications.routing import Route, organisation_routes
from app.reports.models import Report

EVENT_TYPE = "investigation.deadline"
#: "Due within 3 working days" (CONTRACT.md, Operations).
WORKING_DAYS_AHEAD = 3
DUE_SOON = "due_soon"
OVERDUE = "overdue"


def parse_time_of_day(value: str) -> time:
    hours, _, minutes = value.strip().partition(":")
    return time(int(hours), int(minutes or 0))


def working_days_after(day: date, count: int) -> date:
    while count:
        day += timedelta(days=1)
        if is_working_day(day):
            count -= 1
    return day


def is_due(*, now: datetime, at: time) -> date | None:
    """The Vietnam date whose digest is due at ``now``, or None (not a working day, too early)."""
    local = now.astimezone(VIETNAM_TZ)
    if not is_working_day(local.date()) or local.time() < at:
        return None
    return local.date()


def _listed(session: Session, *, now: datetime, day: date) -> dict[str, list[dict[str, Any]]]:
    horizon = end_of(working_days_after(day, WORKING_DAYS_AHEAD))
    rows = session.execute(
        select(
            Investigation.id,
            Investigation.due_at,
            Investigation.district_code,
            Investigation.commune_code,
            Investigation.severity,
            Investigation.status,
            Report.id.label("report_id"),
            Report.reference,
        )
        .join(Report, Report.id == Investigation.report_id)
        .where(ACTIVE_PREDICATE, Investigation.due_at <= horizon)
        .order_by(Investigation.due_at, Investigation.id)
    ).all()
    listed: dict[str, list[dict[str, Any]]] = {DUE_SOON: [], OVERDUE: []}
    for row in rows:
        threshold = OVERDUE if row.due_at < now else DUE_SOON
        already = session.scalar(
            select(
                exists().where(
                    and_(
                        DeadlineAlert.investigation_id == row.id,
                        DeadlineAlert.threshold == threshold,
                    )
                )
            )
        )
        if already:
            continue
        listed[threshold].append(
            {
                "investigation_id": str(row.id),
                "report_id": str(row.report_id),
                "reference": row.reference,
                "district_code": row.district_code,
                "commune_code": row.commune_code,
                "severity": str(getattr(row.severity, "value", row.severity)),
                "status": str(getattr(row.status, "value", row.status)),
                "due_at": row.due_at.astimezone(VIETNAM_TZ).isoformat(),
            }
        )
    return listed


def _routes(session: Session) -> list[Route]:
    routes: list[Route] = []
    for organisation in session.execute(
        select(
            Organisation.id,
            Organisation.name,
            Organisation.kind,
            *(getattr(Organisation, c) for c in organisation_columns(sending=False)),
        )
        .where(Organisation.kind == OrganisationKind.inspectorate)
        .order_by(Organisation.created_at)
    ):
        routes += organisation_routes(organisation._mapping)
    return routes


def send_digest(session: Session, *, now: datetime, at: time) -> bool:
    """Write today's digest to the outbox if it is due and nobody has; True if this call did.
    Commits; a concurrent claim of the same day makes this one roll back and return False."""
    day = is_due(now=now, at=at)
    if day is None:
        return False
    session.rollback()
    if session.get(DeadlineDigest, day) is not None:
        session.rollback()
        return False
    session.rollback()
    try:
        with session.begin():
            session.add(DeadlineDigest(day=day, sent_at=now, event_id=None))
            session.flush()  # the day's claim: a second writer fails here
            listed = _listed(session, now=now, day=day)
            routes = _routes(session)
            if (listed[DUE_SOON] or listed[OVERDUE]) and routes:
                event_id = enqueue(
                    session,
                    report_id=None,
                    event_type=EVENT_TYPE,
                    payload={"date": day.isoformat(), **listed},
                    routes=routes,
                )
                session.get_one(DeadlineDigest, day).event_id = event_id
                session.execute(
                    insert(DeadlineAlert),
                    [
                        {
                            "investigation_id": uuid.UUID(item["investigation_id"]),
                            "threshold": threshold,
                            "day": day,
                        }
                        for threshold, items in listed.items()
                        for item in items
                    ],
                )
    except IntegrityError:
        session.rollback()
        return False
    return True
