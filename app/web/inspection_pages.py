"""The labour authority's and police's pages: the dashboard of running investigations, an
investigation, undelivered notifications, statistics."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import Query
from markupsafe import Markup
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from app import clock
from app.accidents import Severity
from app.audit.models import AuditEvent
from app.auth.models import OrganisationKind
from app.deps import SessionDep
from app.errors import Conflict, PreconditionFailed, ValidationProblem
from app.investigations import service as investigations
from app.investigations.models import ACTIVE, Investigation, InvestigationStatus
from app.investigations.schemas import ExtensionCreate, InvestigationUpdate
from app.notifications import service as notifications
from app.notifications.models import DeliveryStatus
from app.pagination import PageParams
from app.people.service import Person
from app.reports import amendments
from app.reports import service as reports
from app.stats import service as stats
from app.stats.csv_export import filename, render_csv
from app.stats.schemas import Grouping
from app.web import report_form as rf
from app.web import vietnamese as vi
from app.web.chart import bar_chart
from app.web.deps import (
    FormDep,
    InspectorDep,
    PoliceOrInspectorDep,
    StatsReaderDep,
    check_csrf,
    page_router,
)
from app.web.reports_pages import parse_id
from app.web.templating import render

router = page_router()
S = InvestigationStatus


def dashboard(
    session: Session,
    person: Person,
    *,
    status: list[str],
    commune_code: str,
    severity: str,
    overdue: str,
    cursor: str | None,
) -> Response:
    """Running investigations by default, most urgent first (the API's order)."""
    statuses = tuple(S(s) for s in status if s in S.__members__) or (S.open, S.in_progress)
    filters = investigations.InvestigationFilters(
        statuses=statuses,
        commune_code=commune_code if commune_code in dict(rf.commune_choices()) else None,
        severity=Severity(severity) if severity in Severity.__members__ else None,
        overdue={"true": True, "false": False}.get(overdue),
    )
    items, next_cursor = investigations.list_investigations(
        session,
        principal=person.principal,
        filters=filters,
        params=PageParams(limit=50, cursor=cursor),
    )
    now = clock.now()
    query = {
        "status": [s.value for s in statuses],
        "commune_code": filters.commune_code or "",
        "severity": severity if filters.severity else "",
        "overdue": overdue if filters.overdue is not None else "",
    }
    rows = [
        {
            "i": i,
            "words": vi.deadline_words(i.due_at, now=now, running=i.status in ACTIVE),
            "overdue": i.overdue_at(now),
        }
        for i in items
    ]
    return render(
        "dashboard.html",
        {
            "person": person,
            "rows": rows,
            "q": query,
            "communes": rf.commune_choices(),
            "next_link": (
                "/dieu-tra?" + urlencode({**query, "cursor": next_cursor}, doseq=True)
                if next_cursor
                else None
            ),
            "title": "Các vụ đang điều tra",
        },
    )


@router.get("/dieu-tra")
def investigation_list(
    person: PoliceOrInspectorDep,
    session: SessionDep,
    status: Annotated[list[str] | None, Query()] = None,
    commune_code: str = "",
    severity: str = "",
    overdue: str = "",
    cursor: str | None = None,
) -> Response:
    return dashboard(
        session,
        person,
        status=status or [],
        commune_code=commune_code,
        severity=severity,
        overdue=overdue,
        cursor=cursor,
    )


def _timeline(
    session: Session, person: Person, investigation: Investigation
) -> list[dict[str, Any]]:
    report = reports.get_report(
        session, principal=person.principal, report_id=investigation.report_id
    )
    events: list[dict[str, Any]] = [
        {"at": report.received_at, "what": f"Tiếp nhận khai báo {report.reference}"}
    ]
    versions: list[Any] = []
    if report.version > 1:  # version 1 is the report itself
        versions, _ = amendments.list_versions(
            session,
            principal=person.principal,
            report_id=report.id,
            params=PageParams(limit=200, cursor=None),
        )
    for version in versions:
        if version.version > 1:
            fields = ", ".join(c["field"] for c in version.changes)
            events.append(
                {
                    "at": version.created_at,
                    "what": f"Báo cáo bổ sung lần {version.version - 1}: {fields}",
                }
            )
    for d in notifications.list_for_report(
        session, principal=person.principal, report_id=report.id
    ):
        if d.delivered_at:
            events.append(
                {"at": d.delivered_at, "what": f"Đã gửi thông báo đến {d.recipient_name}"}
            )
        elif d.status is DeliveryStatus.unroutable:
            events.append(
                {"at": d.created_at, "what": "Không có cơ quan nhận: " + d.recipient_name}
            )
        if d.acknowledged_at:
            events.append({"at": d.acknowledged_at, "what": f"{d.recipient_name} xác nhận đã nhận"})
    audit = session.scalars(
        select(AuditEvent)
        .where(
            AuditEvent.object_type == "investigation",
            AuditEvent.object_id == str(investigation.id),
            or_(
                AuditEvent.action == "investigation.updated",
                AuditEvent.action == "investigation.extended",
                AuditEvent.action == "investigation.severity_changed",
            ),
        )
        .order_by(AuditEvent.id)
    )
    for event in audit:
        changes = event.changes
        if event.action == "investigation.extended":
            what = "Gia hạn điều tra"
            if "due_at" in changes:
                to = changes["due_at"].get("to")
                if to:
                    what += f" đến hết ngày {vi.ngay(_day_before(to))}"
        elif event.action == "investigation.severity_changed":
            to = changes.get("severity", {}).get("to", "")
            what = f"Mức độ đổi thành: {vi.SEVERITY.get(to, to)}"
        else:
            parts = []
            if "status" in changes:
                to = changes["status"].get("to", "")
                parts.append(f"trạng thái: {vi.STATUS.get(to, to)}")
            if "lead_inspector" in changes:
                parts.append("trưởng đoàn điều tra")
            if "assessment_required" in changes:
                parts.append("cần giám định")
            if "conclusion" in changes:
                parts.append("kết luận")
            if "findings" in changes:
                parts.append("kết quả xác minh")
            what = "Cập nhật " + ", ".join(parts) if parts else "Cập nhật hồ sơ"
        events.append({"at": event.occurred_at, "what": what})
    events.sort(key=lambda e: e["at"])
    return events


def _day_before(iso: str) -> datetime:
    return datetime.fromisoformat(iso) - timedelta(seconds=1)


def _investigation_page(
    session: Session,
    person: Person,
    investigation: Investigation,
    *,
    message: str | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    now = clock.now()
    errors = errors or {}
    return render(
        "investigation.html",
        {
            "person": person,
            "inv": investigation,
            "words": vi.deadline_words(
                investigation.due_at, now=now, running=investigation.status in ACTIVE
            ),
            "overdue": investigation.overdue_at(now),
            "timeline": _timeline(session, person, investigation),
            "next_status": investigations.NEXT_STATUS.get(investigation.status),
            "manages": person.principal.kind is OrganisationKind.inspectorate,
            "message": message,
            "errors": errors,
            "summary": list(errors.items()),
            "title": f"Điều tra {investigation.reference}",
        },
        status_code=status_code,
    )


@router.get("/dieu-tra/{investigation_id}")
def investigation_page(
    investigation_id: str, person: PoliceOrInspectorDep, session: SessionDep
) -> Response:
    investigation = investigations.get_investigation(
        session, principal=person.principal, investigation_id=parse_id(investigation_id)
    )
    return _investigation_page(session, person, investigation)


CONFLICT_MESSAGE = (
    "Hồ sơ điều tra này vừa được người khác thay đổi trước bạn. Trang dưới đây là nội dung mới "
    "nhất; hãy xem lại và thực hiện lại thao tác nếu vẫn cần."
)


@router.post("/dieu-tra/{investigation_id}")
def investigation_action(
    investigation_id: str, person: InspectorDep, form: FormDep, session: SessionDep
) -> Response:
    check_csrf(form, person.csrf_token)
    iid = parse_id(investigation_id)
    if_match = f'"{form.get("version", "")}"'
    action = form.get("action", "")
    errors: dict[str, str] = {}
    try:
        if action == "extend":
            reason = form.get("reason", "").strip()
            approved_by = form.get("approved_by", "").strip()
            if not reason:
                errors["reason"] = "Hãy nhập lý do gia hạn"
            if not approved_by:
                errors["approved_by"] = (
                    "Hãy nhập người phê duyệt: người đứng đầu cơ quan thành lập đoàn điều tra"
                )
            days = form.get("days", "").strip()
            if days and not days.isdigit():
                errors["days"] = "Số ngày gia hạn phải là một số nguyên"
            if not errors:
                extension: dict[str, Any] = {"reason": reason, "approved_by": approved_by}
                if days:
                    extension["days"] = int(days)
                try:
                    extension_data = ExtensionCreate.model_validate(extension)
                except ValidationError as exc:
                    for detail in exc.errors():
                        errors[str(detail["loc"][0])] = "Giá trị không hợp lệ"
                else:
                    investigations.extend_investigation(
                        session,
                        principal=person.principal,
                        investigation_id=iid,
                        data=extension_data,
                        if_match=if_match,
                    )
        else:
            body: dict[str, Any] = {}
            if action == "lead_inspector":
                body["lead_inspector"] = form.get("lead_inspector", "").strip() or None
                if body["lead_inspector"] is None:
                    errors["lead_inspector"] = "Hãy nhập họ tên trưởng đoàn điều tra"
            elif action == "status":
                body["status"] = form.get("status", "")
                if form.get("conclusion", "").strip():
                    body["conclusion"] = form["conclusion"]
            elif action == "conclusion":
                body["findings"] = form.get("findings", "").strip() or None
                body["conclusion"] = form.get("conclusion", "").strip() or None
            elif action == "assessment":
                body["assessment_required"] = form.get("assessment_required") == "true"
            if not errors:
                try:
                    data = InvestigationUpdate.model_validate(body)
                except ValidationError:
                    errors[next(iter(body), "status")] = "Giá trị không hợp lệ"
                else:
                    investigations.update_investigation(
                        session,
                        principal=person.principal,
                        investigation_id=iid,
                        data=data,
                        if_match=if_match,
                    )
    except PreconditionFailed:
        session.rollback()
        investigation = investigations.get_investigation(
            session, principal=person.principal, investigation_id=iid
        )
        return _investigation_page(
            session, person, investigation, message=CONFLICT_MESSAGE, status_code=409
        )
    except ValidationProblem as problem:
        session.rollback()
        for error in problem.errors:
            name = (error.pointer or "/status").strip("/") or "status"
            errors[name] = {
                "conclusion": "Hãy nhập kết luận trước khi chuyển sang Đã kết luận",
                "days": "Số ngày gia hạn từ 1 đến thời hạn điều tra luật định",
            }.get(name, "Giá trị không hợp lệ")
    except Conflict as conflict:
        session.rollback()
        investigation = investigations.get_investigation(
            session, principal=person.principal, investigation_id=iid
        )
        text = (
            "Hồ sơ đã được gia hạn một lần; luật chỉ cho phép gia hạn một lần."
            if "extended" in conflict.detail
            else "Không thể thực hiện thao tác này ở trạng thái hiện tại của hồ sơ."
        )
        return _investigation_page(session, person, investigation, message=text, status_code=409)
    if errors:
        investigation = investigations.get_investigation(
            session, principal=person.principal, investigation_id=iid
        )
        return _investigation_page(session, person, investigation, errors=errors, status_code=422)
    return RedirectResponse(f"/dieu-tra/{iid}", status_code=303)


@router.get("/thong-bao-loi")
def undelivered(person: InspectorDep, session: SessionDep, cursor: str | None = None) -> Response:
    items, next_cursor = notifications.list_undelivered(
        session, statuses=(), report_id=None, params=PageParams(limit=50, cursor=cursor)
    )
    return render(
        "undelivered.html",
        {
            "person": person,
            "items": items,
            "next_cursor": next_cursor,
            "title": "Thông báo chưa gửi được",
        },
    )


@router.post("/thong-bao-loi/{delivery_id}/gui-lai")
def send_again(
    delivery_id: str, person: InspectorDep, form: FormDep, session: SessionDep
) -> Response:
    check_csrf(form, person.csrf_token)
    try:
        notifications.retry(session, principal=person.principal, delivery_id=parse_id(delivery_id))
    except Conflict:
        session.rollback()
    return RedirectResponse("/thong-bao-loi", status_code=303)


def _year(raw: str) -> int:
    return int(raw) if raw.isdigit() and 2000 <= int(raw) <= 2100 else vi.vietnam(clock.now()).year


@router.get("/thong-ke")
def statistics(
    person: StatsReaderDep, session: SessionDep, year: str = "", by: str = "place"
) -> Response:
    grouping: Grouping = "district" if by == "district" else "place"
    figures = stats.yearly_stats(session, principal=person.principal, year=_year(year), by=grouping)
    chart = bar_chart(
        [(u.name, u.reports, u.deaths) for u in figures.units],
        title=f"Số vụ và số người chết năm {figures.year}, theo địa bàn",
    )
    return render(
        "stats.html",
        {
            "person": person,
            "s": figures,
            "chart": Markup(chart),  # noqa: S704 - built by app.web.chart, every text escaped
            "csv_link": "/thong-ke.csv?" + urlencode({"year": figures.year, "by": grouping}),
            "title": f"Thống kê năm {figures.year}",
        },
    )


@router.get("/thong-ke.csv")
def statistics_csv(
    person: StatsReaderDep, session: SessionDep, year: str = "", by: str = "place"
) -> Response:
    grouping: Grouping = "district" if by == "district" else "place"
    figures = stats.yearly_stats(session, principal=person.principal, year=_year(year), by=grouping)
    return Response(
        render_csv(figures),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename(figures)}"'},
    )
