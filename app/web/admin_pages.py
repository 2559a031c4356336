"""The administrator's pages: organisations, their people and their API keys."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from pydantic import ValidationError
from sqlalchemy.orm import Session
from starlette.responses import RedirectResponse, Response

from app.auth import service as auth
from app.auth.models import Organisation, OrganisationKind
from app.auth.schemas import OrganisationCreate, OrganisationUpdate
from app.deps import SessionDep
from app.errors import Conflict, FieldError, ValidationProblem
from app.pagination import PageParams
from app.people import service as people
from app.people.schemas import UserCreate
from app.people.service import Person
from app.web import vietnamese as vi
from app.web.deps import AdminPersonDep, FormDep, check_csrf, page_router
from app.web.reports_pages import parse_id
from app.web.templating import render

router = page_router()

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


#: What a person is told about a field of an organisation the service refused.
ORG_MESSAGES = {
    "name": "Hãy nhập tên tổ chức (tối đa 200 ký tự)",
    "kind": "Hãy chọn loại tổ chức",
    "tax_code": "Doanh nghiệp cần mã số thuế: 10 chữ số, hoặc 10 chữ số, dấu gạch ngang và "
    "3 chữ số",
    "commune_code": "Mã xã, phường không có trong địa giới hiện nay, hoặc không hợp với loại "
    "tổ chức",
    "district_code": "Mã huyện không có trong địa giới trước 01/07/2025, hoặc không hợp với "
    "loại tổ chức",
    "province_code": "Mã tỉnh không hợp lệ (công an tỉnh: 66), hoặc không hợp với loại tổ chức",
    "notify_emails": "Địa chỉ thư điện tử không hợp lệ; công an và cơ quan quản lý lao động "
    "cần ít nhất một kênh nhận thông báo (thư điện tử hoặc webhook)",
    "webhook_url": "Webhook URL không hợp lệ hoặc trỏ tới địa chỉ không được phép (mạng nội "
    "bộ, loopback); khi vận hành thật phải là https://",
}


def _message(name: str) -> str:
    return ORG_MESSAGES.get(name, "Giá trị không hợp lệ hoặc không phù hợp với loại tổ chức")


def _field_errors(errors: list[FieldError] | list[Any]) -> dict[str, str]:
    found: dict[str, str] = {}
    for error in errors:
        name = (error.pointer or "/name").strip("/").split("/")[0] or "name"
        found.setdefault(name, _message(name))
    return found


def _pydantic_errors(exc: ValidationError) -> dict[str, str]:
    found: dict[str, str] = {}
    for e in exc.errors():
        name = str(e["loc"][0]) if e["loc"] else "name"
        found.setdefault(name, _message(name))
    return found


def _emails(text: str) -> list[str]:
    return [e.strip() for e in text.split(",") if e.strip()]


@router.post("/quan-tri")
def create_organisation(person: AdminPersonDep, form: FormDep, session: SessionDep) -> Response:
    check_csrf(form, person.csrf_token)
    values = {f: form.get(f, "") for f in ORG_FIELDS}
    body: dict[str, Any] = {k: v.strip() for k, v in values.items() if v.strip()}
    if "notify_emails" in body:
        body["notify_emails"] = _emails(body["notify_emails"])
    try:
        data = OrganisationCreate.model_validate(body)
    except ValidationError as exc:
        errors = _pydantic_errors(exc)
        return _organisations_page(session, person, values=values, errors=errors, status_code=422)
    try:
        organisation = auth.create_organisation(session, actor=person.principal, data=data)
    except ValidationProblem as problem:
        session.rollback()
        errors = _field_errors(list(problem.errors))
        return _organisations_page(session, person, values=values, errors=errors, status_code=422)
    if organisation.webhook_secret is not None:
        # The secret is shown once, on the answer to this POST (as the API's 201 does).
        return _organisation_page(
            session,
            person,
            organisation,
            shown_once=f"Khóa ký webhook (chỉ hiện một lần): {organisation.webhook_secret}",
            status_code=201,
        )
    return RedirectResponse(f"/quan-tri/to-chuc/{organisation.id}", status_code=303)


def _organisation_page(
    session: Session,
    person: Person,
    organisation: Organisation,
    *,
    shown_once: str | None = None,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Response:
    errors = errors or {}
    if values is None:
        values = _edit_values(organisation)
    return render(
        "admin_organisation.html",
        {
            "person": person,
            "o": organisation,
            "users": people.list_users(session, organisation_id=organisation.id),
            "keys": auth.list_api_keys(session, organisation_id=organisation.id),
            "shown_once": shown_once,
            "saved": saved,
            "errors": errors,
            "summary": list(errors.items()),
            "v": values,
            "title": f"Quản trị: {organisation.name}",
        },
        status_code=status_code,
    )


@router.get("/quan-tri/to-chuc/{organisation_id}")
def organisation_page(
    organisation_id: str, person: AdminPersonDep, session: SessionDep, request: Request
) -> Response:
    organisation = auth.get_organisation(session, organisation_id=parse_id(organisation_id))
    saved = "da-luu" in request.query_params
    return _organisation_page(session, person, organisation, saved=saved)


@router.post("/quan-tri/to-chuc/{organisation_id}/nguoi-dung")
def create_person(
    organisation_id: str, person: AdminPersonDep, form: FormDep, session: SessionDep
) -> Response:
    check_csrf(form, person.csrf_token)
    organisation = auth.get_organisation(session, organisation_id=parse_id(organisation_id))
    values = {
        "email": form.get("email", ""),
        "full_name": form.get("full_name", ""),
        **_edit_values(organisation),
    }
    errors: dict[str, str] = {}
    password = people.generate_password()
    try:
        data = UserCreate.model_validate(
            {"email": values["email"], "full_name": values["full_name"], "password": password}
        )
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


def _edit_values(organisation: Organisation) -> dict[str, str]:
    return {
        "edit-name": organisation.name,
        "edit-notify_emails": ", ".join(organisation.notify_emails or []),
        "edit-webhook_url": organisation.webhook_url or "",
    }


EDIT_FIELDS = ("name", "notify_emails", "webhook_url")


@router.post("/quan-tri/to-chuc/{organisation_id}/sua")
def edit_organisation(
    organisation_id: str, person: AdminPersonDep, form: FormDep, session: SessionDep
) -> Response:
    """The organisation's name and channels, through the service of
    ``PATCH /api/v1/organisations/{id}`` (an empty webhook URL removes the webhook)."""
    check_csrf(form, person.csrf_token)
    organisation = auth.get_organisation(session, organisation_id=parse_id(organisation_id))
    values = {f"edit-{f}": form.get(f"edit-{f}", "") for f in EDIT_FIELDS}
    body: dict[str, Any] = {
        "name": values["edit-name"].strip() or None,
        "notify_emails": _emails(values["edit-notify_emails"]),
        "webhook_url": values["edit-webhook_url"].strip() or None,
    }
    errors: dict[str, str] = {}
    try:
        data = OrganisationUpdate.model_validate(body)
    except ValidationError as exc:
        errors = {f"edit-{k}": v for k, v in _pydantic_errors(exc).items()}
    else:
        if data.name is None:
            errors["edit-name"] = _message("name")
    if not errors:
        try:
            organisation, secret = auth.update_organisation(
                session, actor=person.principal, organisation_id=organisation.id, data=data
            )
        except ValidationProblem as problem:
            session.rollback()
            errors = {f"edit-{k}": v for k, v in _field_errors(list(problem.errors)).items()}
        else:
            if secret is not None:
                return _organisation_page(
                    session,
                    person,
                    organisation,
                    shown_once=f"Khóa ký webhook (chỉ hiện một lần): {secret}",
                )
            return RedirectResponse(f"/quan-tri/to-chuc/{organisation.id}?da-luu=1", 303)
    organisation = auth.get_organisation(session, organisation_id=organisation.id)
    return _organisation_page(
        session, person, organisation, errors=errors, values=values, status_code=422
    )


@router.post("/quan-tri/to-chuc/{organisation_id}/khoa-webhook")
def rotate_webhook_secret(
    organisation_id: str, person: AdminPersonDep, form: FormDep, session: SessionDep
) -> Response:
    """A new webhook secret, shown once; the old one keeps signing for 24 hours."""
    check_csrf(form, person.csrf_token)
    organisation = auth.get_organisation(session, organisation_id=parse_id(organisation_id))
    secret = auth.rotate_webhook_secret(
        session, actor=person.principal, organisation_id=organisation.id
    )
    return _organisation_page(
        session,
        person,
        organisation,
        shown_once=f"Khóa ký webhook mới (chỉ hiện một lần): {secret}",
    )
