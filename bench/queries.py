"""Query benchmark: the investigation list and the yearly statistics over 1,000,000 reports.

Runs on loopback and stops by itself:
- creates a PostgreSQL database (default ``tnld_bench_queries``; dropped at the end unless
  ``--keep``), migrates it with the service's own Alembic revisions,
- bulk-loads N reports (default 1,000,000) over ten years, each with its investigation, with
  one ``INSERT ... SELECT generate_series`` per table (no row goes through Python),
- starts ``tnld serve`` as a subprocess (worker off) and times, through the API with one
  keep-alive HTTP client, ``GET /investigations?status=open&status=in_progress&limit=50``
  (first page and a deep cursor page; without filters, with ``district_code``, with
  ``overdue``) and ``GET /stats?year=``,
- next to each, the bare SQL time of the same query: the statement the service builds,
  captured from SQLAlchemy as it runs in this process, re-executed on a raw connection.

Usage: ``.venv/bin/python bench/queries.py [--reports 1000000] [--requests 200] [--keep]
[--explain] [--database-url postgresql://postgres@127.0.0.1:5432/tnld_bench_queries]``
"""

from __future__ import annotations

import argparse
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from common import ROOT, free_port, percentile, run_in_process

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tnld_bench_queries"
SECRET_KEY = "bench-queries-secret-key-0123456789-abcdefghijklmnop"
TARGET_LIST_P95_MS = 50.0
TARGET_STATS_P95_MS = 500.0
TARGET_RATIO = 3.0
DEEP_PAGE_OFFSET = 10_000
YEARS = 10


# -- Database ------------------------------------------------------------------------------

LOAD_REPORTS = """
INSERT INTO reports (
    id, reference, category, severity, dead_count, seriously_injured_count,
    minor_injury_count, occurred_at, district_code, commune, address, summary, initial_cause,
    measures_taken, employer_name, victims, reporter, submitted_by_id, received_at, late,
    version, updated_at, place_name, current_commune_codes)
SELECT
    gen_random_uuid(),
    'TNLD-' || yr || '-' || lpad((row_number() OVER (PARTITION BY yr ORDER BY g))::text, 6, '0'),
    CASE WHEN g % 10 = 0 THEN 'technical_incident' ELSE 'labour_accident' END,
    CASE WHEN g % 10 = 0 THEN 'none' WHEN g % 10 < 5 THEN 'fatal' ELSE 'serious' END,
    CASE WHEN g % 10 = 0 THEN 0 WHEN g % 10 < 5 THEN 1 + (g % 3 = 0)::int ELSE 0 END,
    CASE WHEN g % 10 = 0 THEN 0 WHEN g % 10 < 5 THEN (g % 2) ELSE 2 + (g % 2) END,
    0,
    received_at - make_interval(hours => (g % 30)::int),
    (643 + (g::bigint * 7919) % 15)::text,
    'Phường Tân Lập',
    'Công trường ' || g || ', Lê Duẩn',
    'Sập giàn giáo khi đổ bê tông sàn.',
    NULL, NULL, 'Công ty TNHH Xây dựng Tây Nguyên',
    '[{"full_name": "Nguyễn Văn A", "gender": "male", "birth_year": 1990, "occupation": null,
       "national_id": null, "employment": "labour_contract", "outcome": "dead",
       "injury": null}]'::jsonb,
    '{"full_name": "Trần Thị B", "position": null, "phone": "0912345678",
      "email": null}'::jsonb,
    CAST(:enterprise AS uuid),
    received_at,
    (g % 30) > 24,
    1,
    received_at,
    -- Rows as v1 filed them (a 2024 district whatever the date), as migration 0006 keeps them;
    -- the district police's scope and the district filter read district_code.
    'Tỉnh Đắk Lắk',
    '[]'::jsonb
FROM (
    SELECT g, received_at,
           extract(year FROM received_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::int AS yr
    FROM (
        SELECT g, CAST(:start AS timestamptz) + (g * :step) * interval '1 second' AS received_at
        FROM generate_series(1, :count) AS g
    ) AS spaced
) AS numbered
"""

# Recent reports (60 days) are open or in progress; older ones are mostly closed, with a
# backlog of 2% still running (overdue) and 1% concluded but not closed. 10% needed an
# assessment (60 days), 5% were extended.
LOAD_INVESTIGATIONS = """
INSERT INTO investigations (
    id, report_id, reference, district_code, severity, status, lead_inspector,
    assessment_required, findings, conclusion, occurred_at, opened_at, due_at, extended,
    extension_reason,
    concluded_at, updated_at, version, extension_days, approved_by, category,
    current_commune_codes)
SELECT
    gen_random_uuid(), id, reference, district_code, severity, status, NULL,
    assessment, NULL,
    CASE WHEN status IN ('concluded', 'closed') THEN 'Kết luận' END,
    occurred_at,
    received_at,
    received_at + make_interval(days => base_days * (CASE WHEN extended THEN 2 ELSE 1 END)),
    extended,
    CASE WHEN extended THEN 'Gia hạn' END,
    CASE WHEN status IN ('concluded', 'closed') THEN received_at + interval '15 days' END,
    received_at,
    1,
    CASE WHEN extended THEN base_days END,
    CASE WHEN extended THEN 'Giám đốc Sở Nội vụ' END,
    category,
    current_commune_codes
FROM (
    SELECT r.*, h % 10 = 0 AS assessment, h % 20 = 7 AS extended,
           CASE WHEN h % 10 = 0 THEN 60 WHEN severity = 'fatal' THEN 30 ELSE 20 END AS base_days,
           CASE
               WHEN received_at > CAST(:now AS timestamptz) - interval '60 days'
                   THEN CASE WHEN h % 2 = 0 THEN 'open' ELSE 'in_progress' END
               WHEN h % 100 < 1 THEN 'open'
               WHEN h % 100 < 2 THEN 'in_progress'
               WHEN h % 100 < 3 THEN 'concluded'
               ELSE 'closed'
           END AS status
    FROM (SELECT reports.*, (hashtext(id::text)::bigint & 2147483647) AS h FROM reports) AS r
) AS planned
"""


def load(url: str, *, count: int) -> dict[str, str]:
    """Migrate, create the organisations (through the service: real keys), bulk-load."""
    from datetime import UTC, datetime

    from sqlalchemy import text

    from app.auth.models import OrganisationKind
    from app.auth.schemas import OrganisationCreate
    from app.auth.service import create_organisation, issue_api_key
    from app.db import get_engine, session_factory
    from app.migrations import upgrade

    upgrade()
    keys: dict[str, str] = {}
    ids: dict[str, str] = {}
    with session_factory()() as session:
        for name, data in {
            "enterprise": OrganisationCreate(
                name="Công ty TNHH Xây dựng Tây Nguyên", kind=OrganisationKind.enterprise,
                tax_code="6000123456",
            ),
            "inspectorate": OrganisationCreate(
                name="Thanh tra Sở LĐTBXH Đắk Lắk", kind=OrganisationKind.inspectorate,
                notify_emails=["thanhtra@tnld.test"],
            ),
            "police": OrganisationCreate(
                name="Công an TP Buôn Ma Thuột (cũ)", kind=OrganisationKind.police,
                district_code="643", notify_emails=["ca643@tnld.test"],
            ),
        }.items():  # fmt: skip
            organisation = create_organisation(session, actor=None, data=data)
            _, keys[name] = issue_api_key(
                session, actor=None, organisation_id=organisation.id, label="bench"
            )
            ids[name] = str(organisation.id)

    now = datetime.now(UTC)
    span = YEARS * 365 * 86400
    step = span / count
    start = now.timestamp() - span - 60
    started = time.perf_counter()
    with get_engine().begin() as conn:
        conn.execute(
            text(LOAD_REPORTS),
            {
                "enterprise": ids["enterprise"],
                "start": datetime.fromtimestamp(start, UTC),
                "step": step,
                "count": count,
            },
        )
        loaded = time.perf_counter()
        conn.execute(text(LOAD_INVESTIGATIONS), {"now": now})
    done = time.perf_counter()
    with get_engine().connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
    analysed = time.perf_counter()
    print(
        f"loaded {count:,} reports in {loaded - started:.1f} s, their investigations in "
        f"{done - loaded:.1f} s, VACUUM ANALYZE {analysed - done:.1f} s",
        flush=True,
    )
    return keys


# -- The service's own statements, captured --------------------------------------------------


@dataclass
class Captured:
    statement: str
    parameters: Any


@contextmanager
def capture_sql() -> Iterator[list[Captured]]:
    from sqlalchemy import event

    from app.db import get_engine

    captured: list[Captured] = []

    def before(_conn: Any, _cursor: Any, statement: str, parameters: Any, *_: Any) -> None:
        captured.append(Captured(statement, parameters))

    engine = get_engine()
    event.listen(engine, "before_cursor_execute", before)
    try:
        yield captured
    finally:
        event.remove(engine, "before_cursor_execute", before)


def principal_of(kind: str) -> Any:
    from sqlalchemy import select

    from app.auth.models import Organisation, OrganisationKind
    from app.auth.principal import Principal
    from app.db import session_factory

    with session_factory()() as session:
        organisation = session.scalars(
            select(Organisation).where(Organisation.kind == OrganisationKind(kind))
        ).one()
        return Principal(
            organisation_id=organisation.id,
            organisation_name=organisation.name,
            kind=organisation.kind,
            district_code=organisation.district_code,
            api_key_id=None,
            commune_code=organisation.commune_code,
            province_code=organisation.province_code,
        )


def list_query(principal: Any, query: dict[str, Any], cursor: str | None) -> Captured:
    """Run the list as the service does, in this process; return the SQL it executed."""
    from app.db import session_factory
    from app.investigations import service
    from app.investigations.models import InvestigationStatus
    from app.pagination import PageParams

    filters = service.InvestigationFilters(
        statuses=tuple(InvestigationStatus(s) for s in query.get("status", [])),
        district_code=query.get("district_code"),
        overdue={"true": True, "false": False}.get(str(query.get("overdue")).lower()),
    )
    with session_factory()() as session, capture_sql() as captured:
        service.list_investigations(
            session,
            principal=principal,
            filters=filters,
            params=PageParams(limit=int(query.get("limit", 50)), cursor=cursor),
        )
    # The page's first statement: the one over investigations with a due_at (a second, over
    # those without one, runs only when the first did not fill the page).
    return next(c for c in captured if "FROM investigations" in c.statement)


def deep_cursor(principal: Any, query: dict[str, Any], offset: int) -> tuple[str, int]:
    """The cursor of a page deep in the result: at ``offset``, or, for a shorter result, at
    the last full page; walks pages of 200 in-process. Returns the cursor and its offset."""
    from app.db import session_factory
    from app.investigations import service
    from app.investigations.models import InvestigationStatus
    from app.pagination import PageParams

    filters = service.InvestigationFilters(
        statuses=tuple(InvestigationStatus(s) for s in query.get("status", [])),
        district_code=query.get("district_code"),
        overdue={"true": True, "false": False}.get(str(query.get("overdue")).lower()),
    )
    limit = int(query.get("limit", 50))
    cursors: list[tuple[int, str]] = []
    cursor: str | None = None
    walked = 0
    with session_factory()() as session:
        while walked < offset:
            items, cursor = service.list_investigations(
                session,
                principal=principal,
                filters=filters,
                params=PageParams(limit=min(limit, offset - walked), cursor=cursor),
            )
            walked += len(items)
            if cursor is None:
                break
            cursors.append((walked, cursor))
    usable = [(at, c) for at, c in cursors if at <= max(walked - limit, 0)] or cursors
    assert usable, "not enough rows for a deep page"
    at, found = usable[-1]
    return found, at


def stats_query(principal: Any, year: int) -> Captured:
    from app import clock
    from app.db import session_factory
    from app.stats import service

    with session_factory()() as session, capture_sql() as captured:
        # The aggregate itself, not the short-lived cache in front of it.
        service.compute_yearly_stats(
            session, principal=principal, year=year, by="place", now=clock.now()
        )
    (statement,) = [c for c in captured if "FROM reports" in c.statement]
    return statement


def time_sql(captured: Captured, repeat: int) -> list[float]:
    from app.db import get_engine

    times: list[float] = []
    with get_engine().connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            for _ in range(3):  # warm-up
                cursor.execute(captured.statement, captured.parameters)
                cursor.fetchall()
            for _ in range(repeat):
                started = time.perf_counter()
                cursor.execute(captured.statement, captured.parameters)
                cursor.fetchall()
                times.append((time.perf_counter() - started) * 1000)
        finally:
            cursor.close()
            raw.rollback()
    return times


def explain(captured: Captured) -> str:
    from app.db import get_engine

    with get_engine().connect() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        try:
            cursor.execute(
                "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) " + captured.statement, captured.parameters
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        finally:
            cursor.close()
            raw.rollback()
    return plan


# -- The API ---------------------------------------------------------------------------------


@contextmanager
def serve(url: str) -> Iterator[str]:
    import httpx

    port = free_port()
    env = {
        **os.environ,
        "TNLD_DATABASE_URL": url,
        "TNLD_SECRET_KEY": SECRET_KEY,
        "TNLD_EMBEDDED_WORKER": "false",
        "TNLD_RATE_LIMIT_WRITES": "0",
        "TNLD_RATE_LIMIT_READS": "0",
    }
    base = f"http://127.0.0.1:{port}"
    # A file, not a pipe: nobody reads the log while timing, and a full pipe stalls the server.
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "app", "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if process.poll() is not None:
                    log.seek(0)
                    raise RuntimeError(f"tnld serve exited: {log.read().decode()[-2000:]}")
                try:
                    if httpx.get(f"{base}/readyz", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise RuntimeError("tnld serve did not become ready")
                time.sleep(0.1)
            yield base
        finally:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def time_api(
    client: Any, path: str, params: dict[str, Any], key: str, repeat: int
) -> tuple[list[float], Any]:
    headers = {"Authorization": f"Bearer {key}"}
    last = None
    for _ in range(3):  # warm-up
        last = client.get(path, params=params, headers=headers)
        assert last.status_code == 200, last.text
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, params=params, headers=headers)
        response.read()
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.text
    return times, last


# -- Scenarios -------------------------------------------------------------------------------


@dataclass
class Scenario:
    name: str
    path: str
    params: dict[str, Any]
    caller: str
    target_ms: float
    sql: Callable[[], Captured]
    deep: bool = False


@dataclass
class Result:
    scenario: Scenario
    api: list[float]
    sql: list[float]
    items: int
    plan: str | None


def scenarios(year: int, principals: dict[str, Any], deep_offset: int) -> list[Scenario]:
    active = {"status": ["open", "in_progress"], "limit": 50}
    variants: list[tuple[str, dict[str, Any], str]] = [
        ("all active", active, "inspectorate"),
        ("district 650", {**active, "district_code": "650"}, "inspectorate"),
        ("overdue=true", {**active, "overdue": "true"}, "inspectorate"),
        ("overdue=false", {**active, "overdue": "false"}, "inspectorate"),
        ("police 643 (scope)", active, "police"),
    ]
    out: list[Scenario] = []
    for label, params, caller in variants:
        principal = principals[caller]
        for deep in (False, True):

            def sql(principal: Any = principal, params: dict[str, Any] = params,
                    deep: bool = deep) -> Captured:  # fmt: skip
                cursor = deep_cursor(principal, params, deep_offset)[0] if deep else None
                return list_query(principal, params, cursor)

            out.append(
                Scenario(
                    name=f"list {label}, " + (f"page at {deep_offset:,}" if deep else "first page"),
                    path="/api/v1/investigations",
                    params=params,
                    caller=caller,
                    target_ms=TARGET_LIST_P95_MS,
                    sql=sql,
                    deep=deep,
                )
            )
    for caller in ("inspectorate", "police"):
        principal = principals[caller]
        out.append(
            Scenario(
                name=f"stats {year} ({'province' if caller == 'inspectorate' else 'district 643'})",
                path="/api/v1/stats",
                params={"year": year},
                caller=caller,
                target_ms=TARGET_STATS_P95_MS,
                sql=lambda principal=principal: stats_query(principal, year),  # type: ignore[misc]
            )
        )
    return out


def run(args: argparse.Namespace) -> int:
    import httpx

    from app import clock

    year = clock.vietnam_time(clock.now()).year - 1  # the last full year
    keys = load(args.database_url, count=args.reports)
    principals = {kind: principal_of(kind) for kind in ("inspectorate", "police")}
    results: list[Result] = []
    with serve(args.database_url) as base, httpx.Client(base_url=base, timeout=30) as client:
        floor = http_floor(client, args.requests)
        for scenario in scenarios(year, principals, args.deep_offset):
            captured = scenario.sql()
            params = dict(scenario.params)
            if scenario.deep:
                cursor, at = deep_cursor(principals[scenario.caller], params, args.deep_offset)
                params["cursor"] = cursor
                scenario.name = scenario.name.replace(f"{args.deep_offset:,}", f"{at:,}")
            repeat = (
                args.requests if scenario.target_ms == TARGET_LIST_P95_MS else args.stats_requests
            )
            api, last = time_api(client, scenario.path, params, keys[scenario.caller], repeat)
            sql = time_sql(captured, repeat)
            body = last.json()
            items = len(body["items"]) if "items" in body else body["total"]["reports"]
            plan = explain(captured) if args.explain else None
            results.append(Result(scenario, api, sql, items, plan))
            print(f"  {scenario.name}: done", file=sys.stderr, flush=True)
    return report(results, floor)


def http_floor(client: Any, repeat: int) -> list[float]:
    """GET /healthz: no key, no database; what any request costs through HTTP and the app."""
    times: list[float] = []
    for _ in range(repeat):
        started = time.perf_counter()
        client.get("/healthz").read()
        times.append((time.perf_counter() - started) * 1000)
    return times


def report(results: list[Result], floor: list[float]) -> int:
    print()
    print(
        "| query | rows | API p50 | API p95 | SQL p50 | SQL p95 | API/SQL p95 | target p95 | ok |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---|")
    failures = 0
    for r in results:
        api50, api95 = statistics.median(r.api), percentile(r.api, 95)
        sql50, sql95 = statistics.median(r.sql), percentile(r.sql, 95)
        ratio = api95 / sql95 if sql95 else float("inf")
        ok = api95 < r.scenario.target_ms
        failures += not ok
        print(
            f"| {r.scenario.name} | {r.items:,} | {api50:.1f} | {api95:.1f} | {sql50:.2f} | "
            f"{sql95:.2f} | {ratio:.1f}x | < {r.scenario.target_ms:.0f} ms | "
            f"{'yes' if ok else 'NO'} |"
        )
    print(
        f"| floor: GET /healthz (no key, no database) | - | {statistics.median(floor):.1f} | "
        f"{percentile(floor, 95):.1f} | - | - | - | - | - |"
    )
    print("\n(times in ms; rows: items on the page, or reports counted by the stats)")
    for r in results:
        if r.plan:
            print(f"\n### {r.scenario.name}\n```\n{r.plan}\n```")
    return 1 if failures else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200, help="per list scenario")
    parser.add_argument("--stats-requests", type=int, default=30)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument(
        "--deep-offset", type=int, default=DEEP_PAGE_OFFSET, help="rows before the deep page"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--explain", action="store_true", help="print EXPLAIN ANALYZE plans")
    args = parser.parse_args()

    run_in_process(
        lambda: run(args), database_url=args.database_url, secret_key=SECRET_KEY, keep=args.keep
    )


if __name__ == "__main__":
    main()
