from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Header, Query
from fastapi.responses import JSONResponse, Response

from app import clock
from app.auth.deps import require
from app.auth.principal import Principal
from app.deps import SessionDep
from app.policy import Action
from app.responses import problems
from app.routing import ReleasingRoute
from app.stats import csv_export, service
from app.stats.schemas import Grouping, StatsRead

router = APIRouter(tags=["statistics"], route_class=ReleasingRoute)

StatsReader = Annotated[
    Principal,
    Depends(require(Action.read_statistics)),
]
CSV_MEDIA_TYPE = "text/csv"


def wants_csv(format: str | None, accept: str | None) -> bool:
    """``?format=`` wins; else the Accept header's preference between JSON and CSV."""
    if format is not None:
        return format == "csv"
    if not accept:
        return False
    quality: dict[str, float] = {}
    for part in accept.split(","):
        media_type, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        quality[media_type.lower()] = max(q, quality.get(media_type.lower(), 0.0))
    csv_q = quality.get(CSV_MEDIA_TYPE, 0.0)
    json_q = max(
        quality.get("application/json", 0.0),
        quality.get("application/*", 0.0),
        quality.get("*/*", 0.0),
    )
    # A client that names text/csv gets it unless it prefers JSON outright.
    return csv_q > 0 and csv_q >= json_q


@router.get(
    "/stats",
    response_model=StatsRead,
    responses={
        200: {
            "description": "The figures as JSON, or as CSV with `?format=csv` or "
            "`Accept: text/csv` (UTF-8 with BOM, one row per unit and a total row)",
            "content": {CSV_MEDIA_TYPE: {"schema": {"type": "string"}}},
        },
        **problems(401, 403, 422),
    },
    summary="Yearly figures per place (inspectorate: province; police and committees: their area)",
    description="A report counts for the year in which its accident **occurred** "
    "(`occurred_at` in Vietnam time). Investigation figures (open, overdue, concluded) "
    "are as of `as_of`: the province's are kept as reports are written (current at every "
    "read); an area's are kept at most 60 seconds, and computed again at once after any new "
    "report, amendment or investigation change. `year` defaults to the current year.\n\n"
    "Rows follow the map in force on each accident's date: from 2025-07-01 a commune of map "
    "2025 (e.g. `24121` Phường Tân Lập), before that a district of map 2024 (e.g. `643` Thành "
    "phố Buôn Ma Thuột). `by=district` rolls the 2025 communes up to their old districts for "
    "comparison with earlier years; a commune spanning several old districts (`22015` Phường "
    "Tuy Hòa: 555 and 563) keeps a row of its own listing them, so no count is split.",
)
def get_statistics(
    principal: StatsReader,
    session: SessionDep,
    year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
    format: Annotated[Literal["json", "csv"] | None, Query()] = None,
    by: Annotated[Grouping, Query()] = "place",
    accept: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Response:
    stats = service.yearly_stats(
        session,
        principal=principal,
        year=year if year is not None else clock.vietnam_time(clock.now()).year,
        by=by,
    )
    if wants_csv(format, accept):
        return Response(
            csv_export.render_csv(stats),
            media_type=f"{CSV_MEDIA_TYPE}; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{csv_export.filename(stats)}"'},
        )
    return JSONResponse(stats.model_dump(mode="json"))
