"""The administrator's pages: organisations, their people and their API keys."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from app.auth import service as auth
from app.auth.models import Organisation, OrganisationKind
from app.auth.schemas import OrganisationCreate
from app.deps import SessionDep
from app.errors import Conflict, FieldError, ValidationProblem
from app.pagination import PageParams
from app.people import service as people
from app.people.schemas import UserCreate
from app.people.service import Person
from app.web import vietnamese as vi
from app.web.deps import AdminPersonDep, Form, PageRoute, check_csrf, read_form
from app.web.reports_pages import parse_id
from app.web.templating import render

router = APIRouter(route_class=PageRoute, include_in_schema=False)
FormDep = Annotated[Form, Depends(read_form)]

ORG_FIELDS = (
    "name",
    "kind",
    "tax_code",
    "commune_code",
    "district_code",
    "province_code",
    "notify_emails",
    "webhook_url",
)


def _organisations_page(
    session: Session,
    person: Person,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    cursor: str | None = None,
    status_code: int = 200,
) -> Response:
    items, next_cursor = auth.list_organisations(
        session, params=PageParams(limit=200, cursor=cursor)
    )
    items.sort(key=lambda o: vi.sort_key(o.name))
    errors = errors or {}
    return render(
        "admin_organisations.html",
        {
            "person": person,
            "organisations": items,
            "next_cursor": next_cursor,
            "v": values or {},
            "errors": errors,
            "summary": list(errors.items()),
            "kind_options": [(k.value, vi.KIND[k.value]) for k in OrganisationKind],
            "title": "Quản trị: các tổ chức",
        },
        status_code=status_code,
    )


@router.get("/quan-tri")
def organisations(
    person: AdminPersonDep, session: SessionDep, cursor: str | None = None
) -> Response:
    return _organisations_page(session, person, cursor=cursor)


def _field_errors(errors: list[FieldError] | list[Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in errors:
        name = (error.pointer or "/name").strip("/").split("/")[0] or "name"
        found.setdefault(name, "Giá trị không hợp lệ hoặc không phù hợp với loại tổ chức")
    return found


@router.post("/quan-tri")
def create_organisation(person: AdminPersonDep, form: FormDep, session: SessionDep) -> Response:
    check_csrf(form, person.csrf_token)
    values = {f: form.get(f, "") for f in ORG_FIELDS}
    body: dict[str, Any] = {k: v.strip() for k, v in values.items() if v.strip()}
    if "notify_emails" in body:
        body["notify_emails"] = [e.strip() for e in body["notify_emails"].split(",") if e.strip()]
    try:
        data = OrganisationCreate.model_validate(body)
    except ValidationError as exc:
        errors = {
            str(e["loc"][0]) if e["loc"] else "name": "Giá trị không hợp lệ" for e in exc.errors()
        }
        return _organisations_page(session, person, values=values, errors=errors, status_code=422)
    try:
        organisation = auth.create_organisation(session, actor=person.principal, data=data)
    except ValidationProblem as problem:
        session.rollback()
        errors = _field_errors(list(problem.errors))
        return _organisations_page(session, person, values=values, errors=errors, status_code=422)
    return RedirectResponse(f"/quan-tri/to-chuc/{organisation.id}", status_code=303)


def _organisation_page(
    session: Session,
    person: Person,
    organisation: Organisation,
    *,
    shown_once: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    errors = errors or {}
    return render(
        "admin_organisation.html",
        {
            "person": person,
            "o": organisation,
            "users": people.list_users(session, organisation_id=organisation.id),
            "keys": auth.list_api_keys(session, organisation_id=organisation.id),
            "shown_once": shown_once,
            "errors": errors,
            "summary": list(errors.items()),
            "v": values or {},
            "title": f"Quản trị: {organisation.name}",
        },
        status_code=status_code,
    )


@router.get("/quan-tri/to-chuc/{organisation_id}")
def organisation_page(
    organisation_id: str, person: AdminPersonDep, session: SessionDep
) -> Response:
    organisation = auth.get_organisation(session, organisation_id=parse_id(organisation_id))
    return _organisation_page(session, person, organisation)


@router.post("/quan-tri/to-chuc/{organisation_id}/nguoi-dung")
def create_person(
    organisation_id: str, person: AdminPersonDep, form: FormDep, session: SessionDep
) -> Response:
    check_csrf(form, person.csrf_token)
    organisation = auth.get_organisation(session, organisation_id=parse_id(organisation_id))
    values = {"email": form.get("email", ""), "full_name": form.get("full_name", "")}
    errors: dict[str, str] = {}
    password = people.generate_password()
    try:
        data = UserCreate.model_validate({**values, "password": password})
    except ValidationError as exc:
        for e in exc.errors():
            name = str(e["loc"][0])
            errors[name] = (
                "Địa chỉ thư điện tử không hợp lệ" if name == "email" else "Hãy nhập họ và tên"
            )
        return _organisation_page(
            session, person, organisation, errors=errors, values=values, status_code=422
        )
    try:
        people.create_user(
            session,
            actor=person.principal,
            organisation_id=organisation.id,
            email=data.email,
            full_name=data.full_name,
            password=password,
        )
    except Conflict:
        errors["email"] = "Đã có người dùng với địa chỉ thư điện tử này"
        return _organisation_page(
            session, person, organisation, errors=errors, values=values, status_code=409
        )
    return _organisation_page(
        session,
        person,
        organisation,
        shown_once=f"Mật khẩu của {data.email} (chỉ hiện một lần): {password}",
    )


@router.post("/quan-tri/to-chuc/{organisation_id}/khoa")
def issue_key(
    organisation_id: str, person: AdminPersonDep, form: FormDep, session: SessionDep
) -> Response:
    check_csrf(form, person.csrf_token)
    organisation = auth.get_organisation(session, organisation_id=parse_id(organisation_id))
    label = form.get("label", "").strip() or None
    _, raw_key = auth.issue_api_key(
        session, actor=person.principal, organisation_id=organisation.id, label=label
    )
    return _organisation_page(
        session, person, organisation, shown_once=f"Khóa API (chỉ hiện một lần): {raw_key}"
    )


@router.post("/quan-tri/khoa/{key_id}/thu-hoi")
def revoke_key(key_id: str, person: AdminPersonDep, form: FormDep, session: SessionDep) -> Response:
    check_csrf(form, person.csrf_token)
    organisation_id = form.get("organisation_id", "")
    auth.revoke_api_key(session, actor=person.principal, key_id=parse_id(key_id))
    return RedirectResponse(f"/quan-tri/to-chuc/{parse_id(organisation_id)}", status_code=303)
