"""Pages of reports: the form, check your answers, a report, its receipt, acknowledgement,
the follow-up (amendment), the list."""

from __future__ import annotations

import time
import uuid
from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.orm import Session, load_only, raiseload
from starlette.responses import RedirectResponse, Response

from app import clock
from app.auth.models import OrganisationKind
from app.deps import SessionDep
from app.errors import IdempotentRequestInFlight, NotFound, NotNotifiable, ValidationProblem
from app.notifications import service as notifications
from app.pagination import PageParams
from app.people.service import Person
from app.reports import amendments, filing
from app.reports import service as reports
from app.reports.models import Report
from app.reports.rules import check_report, victims_as_stored
from app.reports.schemas import AmendmentCreate, ReportCreate
from app.web import report_form as rf
from app.web.deps import (
    FormDep,
    ReaderDep,
    ReporterDep,
    check_csrf,
    page_router,
)
from app.web.receipt import receipt_pdf
from app.web.templating import render

router = page_router()

#: What the list page shows of a report: not its victims (JSON to parse), nor the organisation
#: and investigation joined to every row (bench/README.md, Pages).
LIST_COLUMNS = (
    load_only(Report.id, Report.reference, Report.received_at, Report.severity, Report.place_name),
    raiseload("*"),
)

#: How long a press of confirm waits for the same answers' filing already under way.
IN_FLIGHT_WAIT_SECONDS = 15.0


def parse_id(raw: str) -> uuid.UUID:
    try:
        return uuid.UUID(raw)
    except ValueError:
        raise NotFound("No such page") from None


def _form_page(
    person: Person,
    answers: rf.Answers,
    *,
    errors: dict[str, str] | None = None,
    notice: str | None = None,
    notice_removed: bool = False,
    status_code: int = 200,
) -> Response:
    errors = errors or {}
    order = [n for n, _ in answers.hidden_fields()]
    summary = sorted(errors.items(), key=lambda e: order.index(e[0]) if e[0] in order else 999)
    return render(
        "report_form.html",
        {
            "person": person,
            "a": answers.values,
            "victims": answers.victims,
            "errors": errors,
            "summary": summary,
            "notice": notice,
            "removed": notice_removed,
            "labels": rf.label,
            "communes": rf.commune_choices(),
            "districts": rf.district_choices(),
            "title": "Khai báo vụ việc" if not errors else "Lỗi: Khai báo vụ việc",
        },
        status_code=status_code,
    )


@router.get("/bao-cao/moi")
def new_report(person: ReporterDep) -> Response:
    answers = rf.empty_answers()
    if person.principal.kind is not OrganisationKind.enterprise:
        answers.victims[0]["employment"] = "no_labour_contract"
        answers.values["commune_code"] = person.principal.commune_code or ""
    return _form_page(person, answers)


def _checked(
    person: Person, answers: rf.Answers
) -> tuple[dict[str, Any] | None, ReportCreate | None, Response | None]:
    """The answers through the API's rules: the body and schema, or the page that tells why not."""
    conversion = rf.to_body(answers)
    errors = dict(conversion.errors)
    data: ReportCreate | None = None
    try:
        data = ReportCreate.model_validate(conversion.body)
    except ValidationError as exc:
        errors = {**rf.pydantic_errors(exc, conversion.victim_rows), **errors}
    if errors or data is None:
        return None, None, _form_page(person, answers, errors=errors, status_code=422)
    try:
        check_report(
            data,
            principal=person.principal,
            now=clock.now(),
            victims=victims_as_stored(data.victims, kind=person.principal.kind),
        )
    except NotNotifiable:
        return None, None, _form_page(person, answers, notice=rf.NOT_NOTIFIABLE, status_code=422)
    except ValidationProblem as problem:
        errors = rf.service_errors(list(problem.errors), conversion.victim_rows)
        return None, None, _form_page(person, answers, errors=errors, status_code=422)
    return conversion.body, data, None


@router.post("/bao-cao/moi")
def submit_report(person: ReporterDep, form: FormDep, session: SessionDep) -> Response:
    check_csrf(form, person.csrf_token)
    if "remove_victim" in form:
        answers = rf.read_answers(rf.without_victim(form, form["remove_victim"]))
        return _form_page(person, answers, notice_removed=True)
    answers = rf.read_answers(form)
    if "add_victim" in form:
        if len(answers.victims) < rf.MAX_VICTIM_ROWS:
            answers.victims.append(dict.fromkeys(rf.VICTIM_FIELDS, ""))
            if person.principal.kind is not OrganisationKind.enterprise:
                answers.victims[-1]["employment"] = "no_labour_contract"
        return _form_page(person, answers)
    if "edit" in form:
        return _form_page(person, answers)
    body, data, refusal = _checked(person, answers)
    if refusal is not None:
        return refusal
    assert body is not None
    assert data is not None
    if "confirm" not in form:
        return render(
            "report_check.html",
            {
                "person": person,
                "a": answers.values,
                "victims": answers.victims,
                "hidden": answers.hidden_fields(),
                "place": _place_label(answers),
                "warnings": rf.warnings_in_vietnamese(
                    victims_as_stored(data.victims, kind=person.principal.kind)
                ),
                "title": "Kiểm tra lại trước khi gửi",
            },
        )
    key = rf.idempotency_key(person.user_id, body)
    deadline = time.monotonic() + IN_FLIGHT_WAIT_SECONDS
    while True:
        try:
            filed = filing.file_report(
                session, principal=person.principal, data=data, idempotency_key=key
            )
            break
        except IdempotentRequestInFlight:
            # The same answers confirmed a moment ago (a double press): wait for that filing.
            session.rollback()
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        except NotNotifiable:
            return _form_page(person, answers, notice=rf.NOT_NOTIFIABLE, status_code=422)
        except ValidationProblem as problem:
            errors = rf.service_errors(list(problem.errors), rf.to_body(answers).victim_rows)
            return _form_page(person, answers, errors=errors, status_code=422)
    return RedirectResponse(f"/bao-cao/{filed.body['id']}", status_code=303)


def _place_label(answers: rf.Answers) -> str:
    code = answers.values.get("commune_code") or ""
    for choice, name in rf.commune_choices():
        if choice == code:
            return name
    district = answers.values.get("district_code") or ""
    for choice, name in rf.district_choices():
        if choice == district:
            return name
    return code or district


@router.get("/bao-cao")
def report_list(
    person: ReaderDep, session: SessionDep, request: Request, cursor: str | None = None
) -> Response:
    items, next_cursor = reports.list_reports(
        session,
        principal=person.principal,
        filters=reports.ReportFilters(),
        params=PageParams(limit=50, cursor=cursor),
        options=LIST_COLUMNS,
    )
    return render(
        "report_list.html",
        {
            "person": person,
            "reports": items,
            "next_cursor": next_cursor,
            "title": "Danh sách vụ việc",
        },
    )


def _report_page(session: Session, person: Person, report: Report) -> Response:
    deliveries = notifications.list_for_report(
        session, principal=person.principal, report_id=report.id
    )
    versions: list[Any] = []
    if report.version > 1:  # version 1 is the report itself
        versions, _ = amendments.list_versions(
            session,
            principal=person.principal,
            report_id=report.id,
            params=PageParams(limit=200, cursor=None),
        )
    mine = [d for d in deliveries if d.recipient_id == person.principal.organisation_id]
    return render(
        "report.html",
        {
            "person": person,
            "r": report,
            "deliveries": deliveries,
            "to_acknowledge": [d for d in mine if d.acknowledged_at is None],
            "acknowledged": [d for d in mine if d.acknowledged_at is not None],
            "versions": [v for v in versions if v.version > 1],
            "may_amend": report.submitted_by_id == person.principal.organisation_id,
            # The API's warnings of the filing (contract, Reports), kept with the report: its
            # filer sees them after confirming and whenever it comes back to the report.
            "warnings": rf.warnings_in_vietnamese(report.victims)
            if report.submitted_by_id == person.principal.organisation_id
            else [],
            "show_errors": person.principal.kind is OrganisationKind.inspectorate,
            "title": f"Vụ việc {report.reference}",
        },
    )


@router.get("/bao-cao/{report_id}")
def report_page(report_id: str, person: ReaderDep, session: SessionDep) -> Response:
    report = reports.get_report(session, principal=person.principal, report_id=parse_id(report_id))
    return _report_page(session, person, report)


@router.post("/bao-cao/{report_id}/xac-nhan")
def acknowledge(report_id: str, person: ReaderDep, form: FormDep, session: SessionDep) -> Response:
    """ "Xác nhận đã nhận": the organisation's notifications of this report, acknowledged."""
    check_csrf(form, person.csrf_token)
    rid = parse_id(report_id)
    deliveries = notifications.list_for_report(session, principal=person.principal, report_id=rid)
    mine = [d.id for d in deliveries if d.recipient_id == person.principal.organisation_id]
    if not mine:
        raise NotFound("No notification of this report for the organisation")
    session.rollback()
    for delivery_id in mine:
        notifications.acknowledge(session, principal=person.principal, delivery_id=delivery_id)
    return RedirectResponse(f"/bao-cao/{rid}", status_code=303)


@router.get("/bao-cao/{report_id}/bien-nhan.pdf")
def receipt(report_id: str, person: ReaderDep, session: SessionDep) -> Response:
    report = reports.get_report(session, principal=person.principal, report_id=parse_id(report_id))
    deliveries = notifications.list_for_report(
        session, principal=person.principal, report_id=report.id
    )
    pdf = receipt_pdf(report, deliveries)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="bien-nhan-{report.reference}.pdf"'},
    )


# The follow-up (an amendment): what changed since the report, most often a victim's outcome
# (a worker died in hospital: Decree 39/2016 Art. 10 asks for a supplementary report).


def _amend_page(
    person: Person,
    report: Report,
    *,
    outcomes: dict[int, str],
    note: str,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or {}
    return render(
        "report_amend.html",
        {
            "person": person,
            "r": report,
            "outcomes": outcomes,
            "note": note,
            "errors": errors,
            "summary": list(errors.items()),
            "title": f"Báo cáo bổ sung {report.reference}",
        },
        status_code=status_code,
    )


@router.get("/bao-cao/{report_id}/bo-sung")
def amend_form(report_id: str, person: ReporterDep, session: SessionDep) -> Response:
    report = reports.get_report(session, principal=person.principal, report_id=parse_id(report_id))
    if report.submitted_by_id != person.principal.organisation_id:
        raise NotFound("Only the filing organisation amends")
    outcomes = {i: v["outcome"] for i, v in enumerate(report.victims)}
    return _amend_page(person, report, outcomes=outcomes, note="")


@router.post("/bao-cao/{report_id}/bo-sung")
def amend(report_id: str, person: ReporterDep, form: FormDep, session: SessionDep) -> Response:
    check_csrf(form, person.csrf_token)
    report = reports.get_report(session, principal=person.principal, report_id=parse_id(report_id))
    if report.submitted_by_id != person.principal.organisation_id:
        raise NotFound("Only the filing organisation amends")
    outcomes = {
        i: form.get(f"victims-{i}-outcome", v["outcome"]) for i, v in enumerate(report.victims)
    }
    note = form.get("note", "")
    victims = [dict(v) for v in report.victims]
    for i, outcome in outcomes.items():
        victims[i]["outcome"] = outcome
    body: dict[str, Any] = {"victims": victims}
    if note.strip():
        body["note"] = note
    errors: dict[str, str] = {}
    try:
        data = AmendmentCreate.model_validate(body)
    except ValidationError as exc:
        for error in exc.errors():
            name = rf.field_name(error["loc"], list(range(len(victims))))
            errors[name if name.startswith("victims") else "note"] = "Giá trị không hợp lệ"
        return _amend_page(
            person, report, outcomes=outcomes, note=note, errors=errors, status_code=422
        )
    if victims == report.victims:
        errors["victims-0-outcome"] = "Chưa có thay đổi nào: hãy chọn tình trạng mới"
        return _amend_page(
            person, report, outcomes=outcomes, note=note, errors=errors, status_code=422
        )
    session.rollback()
    key = rf.idempotency_key(person.user_id, {"amendment_of": str(report.id), **body})
    try:
        amendments.amend_report(
            session,
            principal=person.principal,
            report_id=report.id,
            data=data,
            idempotency_key=key,
        )
    except ValidationProblem as problem:
        errors = rf.service_errors(list(problem.errors), list(range(len(victims))))
        return _amend_page(
            person, report, outcomes=outcomes, note=note, errors=errors, status_code=422
        )
    return RedirectResponse(f"/bao-cao/{report.id}", status_code=303)
