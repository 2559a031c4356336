from __future__ import annotations

import hashlib
import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse

from app.accidents import Category, Severity
from app.auth.deps import require
from app.auth.principal import Principal
from app.deps import PageDep, SessionDep
from app.errors import BadRequest, FieldError
from app.fields import InputTimestamp
from app.pagination import PageOut
from app.policy import Action
from app.reports import amendments, filing, service
from app.reports.idempotency import Outcome
from app.reports.schemas import (
    AmendmentCreate,
    EvidenceRead,
    ReportCreate,
    ReportRead,
    ReportSummary,
    ReportVersionRead,
)
from app.responses import problems
from app.routing import ReleasingRoute

router = APIRouter(tags=["reports"], route_class=ReleasingRoute)

Reporter = Annotated[Principal, Depends(require(Action.file_reports))]
Reader = Annotated[
    Principal,
    Depends(require(Action.read_reports)),
]


async def idempotency_key(
    key: Annotated[
        str | None,
        Header(
            alias="Idempotency-Key",
            description="Required: 1-255 printable characters, unique per request. "
            "Replays within 24 h return the stored response.",
        ),
    ] = None,
) -> str:
    if key is None:
        raise BadRequest(
            "The Idempotency-Key header is required",
            errors=[FieldError(header="Idempotency-Key", detail="This header is required")],
        )
    if not 1 <= len(key) <= 255 or not all(0x20 <= ord(ch) < 0x7F for ch in key):
        raise BadRequest(
            "The Idempotency-Key header must be 1-255 printable characters",
            errors=[FieldError(header="Idempotency-Key", detail="1-255 printable characters")],
        )
    return key


def answer(outcome: Outcome) -> JSONResponse:
    """The response of an idempotent POST, first time or replayed (contract, Reports)."""
    headers = {"Location": outcome.location}
    if outcome.replayed:
        headers["Idempotent-Replayed"] = "true"
    return JSONResponse(outcome.body, status_code=outcome.status, headers=headers)


async def body_sha256(request: Request) -> str:
    """Hex SHA-256 of the exact bytes of the request body (evidence of what was received)."""
    return hashlib.sha256(await request.body()).hexdigest()


@router.post(
    "/reports",
    status_code=201,
    response_model=ReportRead,
    responses=problems(400, 401, 403, 409, 413, 422),
    summary="File a report of a notifiable accident or serious technical incident",
)
def file_report(
    principal: Reporter,
    key: Annotated[str, Depends(idempotency_key)],
    body: ReportCreate,
    digest: Annotated[str, Depends(body_sha256)],
    session: SessionDep,
) -> JSONResponse:
    return answer(
        filing.file_report(
            session, principal=principal, data=body, idempotency_key=key, body_sha256=digest
        )
    )


@router.get(
    "/reports",
    response_model=PageOut[ReportSummary],
    responses=problems(401, 403, 422),
    description="Summaries: every field of a report but `victims` and `reporter`, plus "
    "`victim_count`. The whole report is `GET /reports/{id}`.",
)
def list_reports(
    principal: Reader,
    session: SessionDep,
    params: PageDep,
    category: Category | None = None,
    severity: Severity | None = None,
    # A pattern, not just a length: PostgreSQL refuses NUL bytes in text (500 otherwise).
    commune_code: Annotated[
        str | None,
        Query(
            pattern=r"^[0-9A-Za-z_-]{1,16}$",
            description="A commune of map 2025: reports whose place it covers "
            "(`current_commune_codes`), of any date",
        ),
    ] = None,
    district_code: Annotated[str | None, Query(pattern=r"^[0-9A-Za-z_-]{1,16}$")] = None,
    occurred_from: Annotated[InputTimestamp | None, Query()] = None,
    occurred_to: Annotated[InputTimestamp | None, Query()] = None,
) -> PageOut[ReportSummary]:
    filters = service.ReportFilters(
        category=category,
        severity=severity,
        commune_code=commune_code,
        district_code=district_code,
        occurred_from=occurred_from,
        occurred_to=occurred_to,
    )
    items, next_cursor = service.list_reports(
        session, principal=principal, filters=filters, params=params
    )
    return PageOut[ReportSummary](
        items=[service.to_summary(r) for r in items], next_cursor=next_cursor
    )


@router.get(
    "/reports/{report_id}",
    response_model=ReportRead,
    responses=problems(401, 403, 404, 422),
)
def get_report(report_id: uuid.UUID, principal: Reader, session: SessionDep) -> ReportRead:
    return service.read_report(session, principal=principal, report_id=report_id)


# Follow-up reports (amendments) and versions: app/reports/amendments.py.


@router.get(
    "/reports/{report_id}/evidence",
    response_model=EvidenceRead,
    responses=problems(401, 403, 404, 422),
    summary="What was received for each version: the SHA-256 of the exact request body",
    description="The filing organisation and the labour authority (inspectorate). "
    "`body_sha256` is the hex SHA-256 of the bytes of the request body that created that "
    "version; a client that kept what it sent can prove the stored report is that.",
)
def get_report_evidence(
    report_id: uuid.UUID, principal: Reader, session: SessionDep
) -> EvidenceRead:
    return amendments.evidence(session, principal=principal, report_id=report_id)


@router.post(
    "/reports/{report_id}/amendments",
    status_code=201,
    response_model=ReportVersionRead,
    responses=problems(400, 401, 403, 404, 409, 413, 422),
    summary="Amend a report (follow-up report) as the organisation that filed it",
    description="Changes to the text fields, the reporter and the victims (the whole list, "
    "same order: correct in place, append new ones; none removed). Validated like a new "
    "report (422, pointers into this body). Returns the new version, with "
    "`Location: /api/v1/reports/{id}/versions/{n}`. `received_at` never changes. When the "
    "victims' counts change, the investigation's `due_at` is recomputed from the original "
    "`received_at` (Law 84/2015 Art. 35.6; an extension's days are kept). The response "
    "carries `warnings` for doubtful but accepted data. A `report.amended` notification "
    "goes to the report's recipients.\n\n"
    "Only the filing organisation may amend: another organisation that can read the report "
    "gets 403, one that cannot gets 404. `Idempotency-Key` is required, with the same "
    "semantics as for POST /reports.",
)
def amend_report(
    report_id: uuid.UUID,
    principal: Reporter,
    key: Annotated[str, Depends(idempotency_key)],
    body: AmendmentCreate,
    digest: Annotated[str, Depends(body_sha256)],
    session: SessionDep,
) -> JSONResponse:
    return answer(
        amendments.amend_report(
            session,
            principal=principal,
            report_id=report_id,
            data=body,
            idempotency_key=key,
            body_sha256=digest,
        )
    )


@router.get(
    "/reports/{report_id}/versions",
    response_model=PageOut[ReportVersionRead],
    responses=problems(401, 403, 404, 422),
    summary="The numbered versions of a report, oldest first (1 as filed)",
)
def list_report_versions(
    report_id: uuid.UUID,
    principal: Reader,
    session: SessionDep,
    params: PageDep,
) -> PageOut[ReportVersionRead]:
    items, next_cursor = amendments.list_versions(
        session, principal=principal, report_id=report_id, params=params
    )
    return PageOut[ReportVersionRead](
        items=[amendments.version_read(v) for v in items], next_cursor=next_cursor
    )


@router.get(
    "/reports/{report_id}/versions/{version}",
    response_model=ReportVersionRead,
    responses=problems(401, 403, 404, 422),
)
def get_report_version(
    report_id: uuid.UUID,
    version: Annotated[int, Path(ge=1, le=1_000_000)],
    principal: Reader,
    session: SessionDep,
) -> ReportVersionRead:
    return amendments.version_read(
        amendments.get_version(session, principal=principal, report_id=report_id, version=version)
    )
