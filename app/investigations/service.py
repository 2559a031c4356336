"""Running investigations to their conclusion (Law 84/2015, Art. 35).

The provincial team (Sở Nội vụ since 1 March 2025) investigates fatal accidents and accidents
seriously injuring two or more workers. Its periods, how they are counted and the one extension
are in :mod:`app.investigations.periods` (Art. 35.6; Civil Code 2015 Arts. 147–148).

Decisions where the contract is silent (also in the OpenAPI descriptions):
- ``status`` moves one step forward only; the current status is accepted as "no change".
- Once ``concluded`` the record is fixed: only the move to ``closed`` is accepted. Once
  ``closed`` nothing changes (409).
- ``assessment_required`` may change while the investigation runs; ``due_at`` is recomputed
  from ``opened_at`` (the report's ``received_at``), keeping an extension's days.
- ``overdue`` is open or in progress and past ``due_at`` at the moment of the request
  (exactly at ``due_at`` is still in time); never without a ``due_at``.
- ``If-Match`` is optional; when given it must match the current ``ETag`` (strong
  comparison, ``*`` matches), else 412. A PATCH that changes nothing keeps the ETag.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, false, literal, or_, select
from sqlalchemy.orm import Session

from app import clock
from app.accidents import Severity
from app.audit.service import record
from app.auth.principal import Principal
from app.errors import (
    Conflict,
    FieldError,
    InvalidTransition,
    NotFound,
    PreconditionFailed,
    ValidationProblem,
)
from app.investigations import periods
from app.investigations.models import ACTIVE, FINISHED, Investigation, InvestigationStatus
from app.investigations.schemas import ExtensionCreate, InvestigationRead, InvestigationUpdate
from app.pagination import PageParams, paginate_nulls_last
from app.policy import readable_investigations
from app.reports.models import Report
from app.reports.scope import in_commune

S = InvestigationStatus
#: The one move allowed from each status (contract, Investigations).
NEXT_STATUS = {S.open: S.in_progress, S.in_progress: S.concluded, S.concluded: S.closed}
#: Free text that may name people: the audit trail (readable by admins) records only that it
#: changed; the text itself is in the investigation.
FREE_TEXT = frozenset({"findings", "conclusion"})


def statuses_in(statuses: Sequence[InvestigationStatus]) -> ColumnElement[bool]:
    # Rendered as literals, not parameters, so that PostgreSQL can match the partial
    # "active investigations" indexes (their predicate must be provable at plan time).
    return Investigation.status.in_([literal(s.value, literal_execute=True) for s in statuses])


def etag(investigation: Investigation) -> str:
    return f'"{investigation.version}"'


def to_read(investigation: Investigation) -> InvestigationRead:
    return InvestigationRead.model_validate(investigation)


@dataclass(frozen=True)
class InvestigationFilters:
    statuses: tuple[InvestigationStatus, ...] = ()
    commune_code: str | None = None
    district_code: str | None = None
    severity: Severity | None = None
    overdue: bool | None = None


def list_statement(
    *, principal: Principal, filters: InvestigationFilters, now: datetime, dated: bool = True
) -> Select[Investigation]:
    """The list query before paging (also timed bare by bench/queries.py): over the
    investigations with a ``due_at`` (``dated``), or over those without one, which the Law
    gives no period and which are therefore never overdue. Two statements, so that each keeps
    plain conditions the planner matches with the ``(due_at, id)`` indexes."""
    stmt = select(Investigation).where(readable_investigations(principal))
    stmt = stmt.where(
        Investigation.due_at.is_not(None) if dated else Investigation.due_at.is_(None)
    )
    statuses = tuple(dict.fromkeys(filters.statuses))
    if filters.overdue is True:
        # Overdue implies still running: narrow the statuses to the running ones asked for.
        statuses = tuple(s for s in statuses or ACTIVE if s in ACTIVE)
        if not statuses or not dated:
            return stmt.where(false())
        stmt = stmt.where(Investigation.due_at < now)
    elif filters.overdue is False and dated:
        if statuses and all(s in ACTIVE for s in statuses):
            stmt = stmt.where(Investigation.due_at >= now)
        elif not statuses or any(s in ACTIVE for s in statuses):
            stmt = stmt.where(or_(statuses_in(FINISHED), Investigation.due_at >= now))
    if statuses:
        stmt = stmt.where(statuses_in(statuses))
    if filters.commune_code is not None:
        stmt = stmt.where(in_commune(Investigation.report_id, filters.commune_code))
    if filters.district_code is not None:
        stmt = stmt.where(Investigation.district_code == filters.district_code)
    if filters.severity is not None:
        stmt = stmt.where(Investigation.severity == filters.severity)
    return stmt


def list_investigations(
    session: Session,
    *,
    principal: Principal,
    filters: InvestigationFilters,
    params: PageParams,
) -> tuple[list[Investigation], str | None]:
    # Contract: by due_at ascending, those without a statutory period (null) last.
    now = clock.now()
    return paginate_nulls_last(
        session,
        dated=list_statement(principal=principal, filters=filters, now=now),
        undated=list_statement(principal=principal, filters=filters, now=now, dated=False),
        column=Investigation.due_at,
        kind=datetime,
        tiebreak=Investigation.id,
        params=params,
        key=lambda i: (i.due_at, i.id),
    )


def get_investigation(
    session: Session,
    *,
    principal: Principal,
    investigation_id: uuid.UUID,
    for_update: bool = False,
) -> Investigation:
    stmt = select(Investigation).where(
        Investigation.id == investigation_id, readable_investigations(principal)
    )
    if for_update:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    investigation = session.scalar(stmt)
    if investigation is None:
        raise NotFound("No such investigation")
    return investigation


def check_if_match(investigation: Investigation, if_match: str | None) -> None:
    """RFC 9110 §13.1.1, strong comparison: a weak or stale tag does not match."""
    if if_match is None:
        return
    tags = [tag.strip() for tag in if_match.split(",")]
    if "*" in tags or etag(investigation) in tags:
        return
    raise PreconditionFailed(
        "The investigation has changed since you read it (If-Match does not match the "
        f"current ETag {etag(investigation)}); read it again and retry",
        headers={"ETag": etag(investigation)},
    )


def base_days(session: Session, investigation: Investigation) -> int | None:
    """The base period in force (Law 84/2015 Art. 35.6), from the report's victims as now
    declared and the assessment flag."""
    report = session.get_one(Report, investigation.report_id)
    return periods.base_days(
        dead=report.dead_count,
        seriously_injured=report.seriously_injured_count,
        minor_injury=report.minor_injury_count,
        assessment_required=investigation.assessment_required,
    )


def _audit_value(value: Any) -> Any:
    if isinstance(value, datetime):
        return clock.vietnam_time(value).isoformat()
    return value


def _recompute_due_at(session: Session, investigation: Investigation) -> None:
    """Base period in force plus the extension's days, counted from receipt (Civil Code 2015
    Arts. 147–148)."""
    base = base_days(session, investigation)
    investigation.due_at = periods.due_at(
        received_at=investigation.opened_at,
        days=None if base is None else base + (investigation.extension_days or 0),
    )


def _touch(investigation: Investigation, *, now: datetime) -> None:
    investigation.version += 1
    investigation.updated_at = now


def _changes(before: dict[str, Any], investigation: Investigation) -> dict[str, Any]:
    changes: dict[str, Any] = {}
    for field, old in before.items():
        new = getattr(investigation, field)
        if new == old:
            continue
        if field in FREE_TEXT:
            changes[field] = {"changed": True, "cleared": new is None}
        else:
            changes[field] = {"from": _audit_value(old), "to": _audit_value(new)}
    return changes


_TRACKED = (
    "status",
    "lead_inspector",
    "assessment_required",
    "findings",
    "conclusion",
    "due_at",
    "concluded_at",
)


def update_investigation(
    session: Session,
    *,
    principal: Principal,
    investigation_id: uuid.UUID,
    data: InvestigationUpdate,
    if_match: str | None,
) -> Investigation:
    investigation = get_investigation(
        session, principal=principal, investigation_id=investigation_id, for_update=True
    )
    check_if_match(investigation, if_match)
    given = data.model_dump(exclude_unset=True)
    now = clock.now()
    before = {field: getattr(investigation, field) for field in _TRACKED}
    changed_fields = {f for f, v in given.items() if getattr(investigation, f) != v}

    if investigation.status is S.closed and changed_fields:
        raise InvalidTransition("The investigation is closed: it can no longer change")
    target = given.get("status", investigation.status)
    if target != investigation.status and NEXT_STATUS.get(investigation.status) != target:
        allowed = NEXT_STATUS.get(investigation.status)
        raise InvalidTransition(
            f"An investigation cannot move from {investigation.status} to {target}"
            + (f" (only to {allowed})" if allowed else ""),
        )
    if investigation.status is S.concluded and changed_fields - {"status"}:
        raise InvalidTransition(
            "The investigation is concluded: its record is fixed; only `closed` may follow"
        )

    concluding = target is S.concluded and investigation.status is not S.concluded
    if concluding and not given.get("conclusion", investigation.conclusion):
        raise ValidationProblem(
            [FieldError(pointer="/conclusion", detail="a conclusion is required to conclude")]
        )

    for field in ("lead_inspector", "findings", "conclusion", "assessment_required"):
        if field in given:
            setattr(investigation, field, given[field])
    if concluding:
        investigation.concluded_at = now
    investigation.status = target
    if "assessment_required" in changed_fields:
        # Law 84/2015 Art. 35: 60 days where a technical assessment or forensic examination
        # is needed; the deadline still runs from receipt of the notification.
        _recompute_due_at(session, investigation)

    changes = _changes(before, investigation)
    if changes:
        _touch(investigation, now=now)
        record(
            session,
            actor=principal,
            action="investigation.updated",
            object_type="investigation",
            object_id=investigation.id,
            changes=changes,
        )
    session.commit()
    return investigation


def extend_investigation(
    session: Session,
    *,
    principal: Principal,
    investigation_id: uuid.UUID,
    data: ExtensionCreate,
    if_match: str | None,
) -> Investigation:
    """Law 84/2015 Art. 35.6, last paragraph: one extension, of at most the base period,
    approved by the head of the body that set up the team."""
    investigation = get_investigation(
        session, principal=principal, investigation_id=investigation_id, for_update=True
    )
    check_if_match(investigation, if_match)
    if investigation.extended:
        raise Conflict("The deadline was already extended once; the law allows one extension")
    if investigation.status not in ACTIVE:
        raise InvalidTransition(
            f"The investigation is {investigation.status}: there is no deadline to extend"
        )
    base = base_days(session, investigation)
    if base is None:
        raise Conflict(
            "The Law sets no investigation period for an incident without victims "
            "(Law 84/2015, Art. 35.6): there is no deadline to extend"
        )
    if base == periods.MINOR_INJURIES_DAYS:
        raise Conflict(
            "The Law allows an extension for the 7, 20, 30 and 60-day periods only, not for "
            "the 4 days of an accident with minor injuries only (Law 84/2015, Art. 35.6)"
        )
    days = base if data.days is None else data.days
    if not 1 <= days <= base:
        raise ValidationProblem(
            [
                FieldError(
                    pointer="/days",
                    detail=f"must be from 1 to {base}: an extension is at most the base period "
                    "in force (Law 84/2015, Art. 35.6)",
                )
            ]
        )
    old_due = investigation.due_at
    investigation.extended = True
    investigation.extension_reason = data.reason
    investigation.extension_days = days
    investigation.approved_by = data.approved_by
    _recompute_due_at(session, investigation)
    _touch(investigation, now=clock.now())
    record(
        session,
        actor=principal,
        action="investigation.extended",
        object_type="investigation",
        object_id=investigation.id,
        changes={
            "extended": {"from": False, "to": True},
            "extension_days": {"from": None, "to": days},
            "approved_by": {"from": None, "to": data.approved_by},
            "due_at": {"from": _audit_value(old_due), "to": _audit_value(investigation.due_at)},
            "reason": data.reason,
        },
    )
    session.commit()
    return investigation


def follow_report_severity(
    session: Session, *, principal: Principal, report_id: uuid.UUID, severity: Severity
) -> Investigation | None:
    """After an amendment changed the report's victims: the base period follows the accident
    as now declared (e.g. a seriously injured worker died: 30 days instead of 7 or 20), always
    counted from the original receipt. Runs in the amendment's transaction, after the
    report's counts were updated."""
    investigation = session.scalar(
        select(Investigation)
        .where(Investigation.report_id == report_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    if investigation is None:
        return investigation
    old_severity, old_due = investigation.severity, investigation.due_at
    investigation.severity = severity
    _recompute_due_at(session, investigation)
    if investigation.severity == old_severity and investigation.due_at == old_due:
        return investigation
    _touch(investigation, now=clock.now())
    record(
        session,
        actor=principal,
        action="investigation.severity_changed",
        object_type="investigation",
        object_id=investigation.id,
        changes={
            "severity": {"from": old_severity.value, "to": severity.value},
            "due_at": {"from": _audit_value(old_due), "to": _audit_value(investigation.due_at)},
        },
    )
    return investigation
