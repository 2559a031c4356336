from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Response

from app.accidents import Severity
from app.auth.deps import require
from app.auth.principal import Principal
from app.deps import PageDep, SessionDep
from app.investigations import service
from app.investigations.models import Investigation, InvestigationStatus
from app.investigations.schemas import ExtensionCreate, InvestigationRead, InvestigationUpdate
from app.pagination import PageOut
from app.policy import Action
from app.responses import problems
from app.routing import ReleasingRoute

router = APIRouter(tags=["investigations"], route_class=ReleasingRoute)

Reader = Annotated[Principal, Depends(require(Action.read_investigations))]
Inspector = Annotated[Principal, Depends(require(Action.manage_investigations))]
IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        description="Optional. The ETag of the investigation as last read; if it changed "
        "since, the request fails with 412 and changes nothing.",
    ),
]

_ETAG_HEADER = {
    "ETag": {
        "description": "Version tag of the investigation, for If-Match",
        "schema": {"type": "string"},
    }
}


def _single(investigation: Investigation, response: Response) -> InvestigationRead:
    response.headers["ETag"] = service.etag(investigation)
    return service.to_read(investigation)


@router.get(
    "/investigations",
    response_model=PageOut[InvestigationRead],
    responses=problems(401, 403, 422),
    summary="List investigations by deadline (inspectorate: all; police: its area)",
    description="Ordered by `due_at` ascending (soonest deadline first), then by id. "
    "`status` may be repeated. `overdue=true`: open or in progress and past `due_at` now; "
    "`overdue=false`: everything else.",
)
def list_investigations(
    principal: Reader,
    session: SessionDep,
    params: PageDep,
    status: Annotated[list[InvestigationStatus] | None, Query()] = None,
    commune_code: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9A-Za-z_-]{1,16}$",
            description="A commune of map 2025: investigations whose place it covers "
            "(`current_commune_codes`)",
        ),
    ] = None,
    district_code: Annotated[str | None, Query(max_length=16)] = None,
    severity: Severity | None = None,
    overdue: bool | None = None,
) -> PageOut[InvestigationRead]:
    filters = service.InvestigationFilters(
        statuses=tuple(status or ()),
        commune_code=commune_code,
        district_code=district_code,
        severity=severity,
        overdue=overdue,
    )
    items, next_cursor = service.list_investigations(
        session, principal=principal, filters=filters, params=params
    )
    return PageOut[InvestigationRead](
        items=[service.to_read(i) for i in items], next_cursor=next_cursor
    )


@router.get(
    "/investigations/{investigation_id}",
    response_model=InvestigationRead,
    responses={200: {"headers": _ETAG_HEADER}, **problems(401, 403, 404, 422)},
)
def get_investigation(
    investigation_id: uuid.UUID, principal: Reader, session: SessionDep, response: Response
) -> InvestigationRead:
    investigation = service.get_investigation(
        session, principal=principal, investigation_id=investigation_id
    )
    return _single(investigation, response)


@router.patch(
    "/investigations/{investigation_id}",
    response_model=InvestigationRead,
    responses={200: {"headers": _ETAG_HEADER}, **problems(401, 403, 404, 409, 412, 413, 422)},
    summary="Update an investigation (inspectorate)",
    description="Any of `status`, `lead_inspector`, `assessment_required`, `findings`, "
    "`conclusion`; absent fields are unchanged.\n\n"
    "- `status` moves one step forward only: `open` → `in_progress` → `concluded` → "
    "`closed`; any other move is 409. Sending the current status is no change.\n"
    "- `concluded` needs a non-empty `conclusion`, in the same request or stored before "
    "(else 422); it sets `concluded_at`.\n"
    "- Once `concluded` the record is fixed: only `status: closed` is accepted (409 for "
    "other changes). Once `closed`, every change is 409.\n"
    "- Changing `assessment_required` recomputes `due_at` from `opened_at` (60 days with an "
    "assessment, else 30 fatal / 20 two or more seriously injured / 7 one / 4 minor only; "
    "none without victims), keeping an extension's days.\n"
    "- `If-Match` (optional): a stale ETag is 412. A request that changes nothing keeps the "
    "ETag and writes no audit event.",
)
def update_investigation(
    investigation_id: uuid.UUID,
    body: InvestigationUpdate,
    principal: Inspector,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> InvestigationRead:
    investigation = service.update_investigation(
        session,
        principal=principal,
        investigation_id=investigation_id,
        data=body,
        if_match=if_match,
    )
    return _single(investigation, response)


@router.post(
    "/investigations/{investigation_id}/extension",
    response_model=InvestigationRead,
    responses={200: {"headers": _ETAG_HEADER}, **problems(401, 403, 404, 409, 412, 413, 422)},
    summary="Extend the deadline once (inspectorate)",
    description="Law 84/2015 Art. 35.6, last paragraph: one extension of `days` (1 up to the "
    "base period in force; default the base period; outside that range 422 at `/days`), "
    "approved by `approved_by` (the head of the body that set up the team). `due_at` becomes "
    "the end of roll(received date + base + extension days) (Civil Code Arts. 147–148). A "
    "second extension, one for a concluded or closed investigation, one without a statutory "
    "period (no victims), or one of the 4-day period (minor injuries only, which Art. 35.6 "
    "does not extend) is 409. Returns the investigation.",
)
def extend_investigation(
    investigation_id: uuid.UUID,
    body: ExtensionCreate,
    principal: Inspector,
    session: SessionDep,
    response: Response,
    if_match: IfMatch = None,
) -> InvestigationRead:
    investigation = service.extend_investigation(
        session,
        principal=principal,
        investigation_id=investigation_id,
        data=body,
        if_match=if_match,
    )
    return _single(investigation, response)
