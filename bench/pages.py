"""Page benchmark: every web page rendered, with many reports in PostgreSQL.

Loads N reports (default 1,000,000) with their investigations exactly as bench/queries.py does
(one ``INSERT ... SELECT generate_series`` per table), creates one person per role, starts
``tnld serve`` as a subprocess (worker off), logs each person in through ``/dang-nhap`` and
times every page through HTTP with one keep-alive client per person: p50 and p95 over
``--requests`` requests, and the size of the answer (target: p95 < 50 ms, < 100 KB). Next to
them, the floor of any request through HTTP and the app (``GET /healthz``).

Usage: ``.venv/bin/python bench/pages.py [--reports 1000000] [--requests 100] [--keep]
[--database-url postgresql://postgres@127.0.0.1:5432/tnld_bench_pages]``
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import percentile, run_in_process
from queries import SECRET_KEY, http_floor, load, serve

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/tnld_bench_pages"
TARGET_P95_MS = 50.0
TARGET_BYTES = 100 * 1024
PASSWORD = "bench-pages-password-0123"

FORM = {
    "category": "labour_accident",
    "occurred_date": "20/11/2026",
    "occurred_time": "08:30",
    "commune_code": "24121",
    "address": "Công trường nhà ở, 12 Lê Duẩn",
    "summary": "Sập giàn giáo tầng 4 khi đổ bê tông sàn.",
    "victims-0-full_name": "Nguyễn Văn A",
    "victims-0-gender": "male",
    "victims-0-birth_year": "1990",
    "victims-0-outcome": "dead",
    "reporter-full_name": "Trần Thị B",
    "reporter-phone": "0912345678",
}


def people() -> dict[str, Any]:
    """One person per organisation the load made, and an admin; ids of pages to visit."""
    from sqlalchemy import select

    from app.auth.models import Organisation
    from app.auth.service import bootstrap_admin
    from app.db import session_factory
    from app.investigations.models import Investigation
    from app.people.service import create_user
    from app.reports.models import Report

    found: dict[str, Any] = {}
    with session_factory()() as session:
        admin, _ = bootstrap_admin(session, name="Quản trị")
        organisations = {o.kind.value: o for o in session.scalars(select(Organisation))}
        organisations["admin"] = admin
        for kind, organisation in organisations.items():
            email = f"{kind}@bench.tnld.test"
            create_user(
                session,
                actor=None,
                organisation_id=organisation.id,
                email=email,
                full_name=f"Người dùng {kind}",
                password=PASSWORD,
            )
            found[f"{kind}_email"] = email
        newest = session.scalar(select(Report).order_by(Report.received_at.desc()).limit(1))
        assert newest is not None
        found["report"] = str(newest.id)
        police_report = session.scalar(
            select(Report)
            .where(Report.district_code == "643")
            .order_by(Report.received_at.desc())
            .limit(1)
        )
        assert police_report is not None
        found["police_report"] = str(police_report.id)
        investigation = session.scalar(
            select(Investigation).where(Investigation.report_id == newest.id)
        )
        assert investigation is not None
        found["investigation"] = str(investigation.id)
        found["organisation"] = str(organisations["enterprise"].id)
    return found


def logged_in(base: str, email: str) -> Any:
    import httpx

    client = httpx.Client(base_url=base, timeout=60)
    page = client.get("/dang-nhap")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    response = client.post(
        "/dang-nhap", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert response.status_code == 303, response.status_code
    return client


def csrf(client: Any, path: str) -> str:
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert token
    return token[1]


def time_page(
    client: Any, method: str, path: str, repeat: int, data: Any = None, status: int = 200
) -> dict[str, Any]:
    times: list[float] = []
    size = 0
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.request(method, path, data=data, follow_redirects=False)
        size = len(response.content)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == status, (path, response.status_code, response.text[:300])
    return {"p50": percentile(times, 50), "p95": percentile(times, 95), "bytes": size}


def list_loading(repeat: int) -> dict[str, list[float]]:
    """The enterprise's list in this process, interleaved: every column and the joined
    organisation and investigation (as the API's list loads them) against the five columns the
    page shows (app.web.reports_pages.LIST_COLUMNS). Query and loading, no HTTP, no template."""
    from sqlalchemy import select

    from app.auth.models import Organisation, OrganisationKind
    from app.auth.principal import Principal
    from app.db import session_factory
    from app.pagination import PageParams
    from app.reports import service
    from app.web.reports_pages import LIST_COLUMNS

    times: dict[str, list[float]] = {"whole rows": [], "five columns": []}
    with session_factory()() as session:
        org = session.scalar(
            select(Organisation).where(Organisation.kind == OrganisationKind.enterprise)
        )
        assert org is not None
        principal = Principal(
            organisation_id=org.id,
            organisation_name=org.name,
            kind=org.kind,
            district_code=None,
            api_key_id=None,
        )
        session.rollback()
        for _ in range(repeat):
            for name, options in (("whole rows", ()), ("five columns", LIST_COLUMNS)):
                started = time.perf_counter()
                service.list_reports(
                    session,
                    principal=principal,
                    filters=service.ReportFilters(),
                    params=PageParams(limit=50, cursor=None),
                    options=options,
                )
                session.rollback()
                times[name].append((time.perf_counter() - started) * 1000)
    return times


def run(args: argparse.Namespace) -> int:
    from app import clock

    year = clock.vietnam_time(clock.now()).year - 1
    load(args.database_url, count=args.reports)
    ids = people()
    loading = list_loading(args.requests)
    print("\nThe enterprise's list, in process (query and loading, 50 rows):")
    for name, times in loading.items():
        print(f"  {name}: p50 {percentile(times, 50):.1f} ms, p95 {percentile(times, 95):.1f} ms")
    rows: list[tuple[str, str, dict[str, Any]]] = []
    with serve(args.database_url) as base:
        import httpx

        with httpx.Client(base_url=base) as anonymous:
            floor = http_floor(anonymous, args.requests)
            rows.append(
                (
                    "anyone",
                    "GET /dang-nhap",
                    time_page(anonymous, "GET", "/dang-nhap", args.requests),
                )
            )
        r, i = ids["report"], ids["investigation"]
        plan = {
            "enterprise": [
                "/",
                "/bao-cao/moi",
                "/bao-cao",
                f"/bao-cao/{r}",
                f"/bao-cao/{r}/bo-sung",
                f"/bao-cao/{r}/bien-nhan.pdf",
                "POST /bao-cao/moi (check your answers)",
            ],
            "inspectorate": [
                "/dieu-tra",
                "/dieu-tra?status=open&status=in_progress&overdue=true",
                f"/dieu-tra/{i}",
                "/bao-cao",
                f"/bao-cao/{r}",
                "/thong-bao-loi",
                f"/thong-ke?year={year}",
            ],
            "police": ["/dieu-tra", "/bao-cao", f"/bao-cao/{ids['police_report']}"],
            "admin": [
                "/quan-tri",
                f"/quan-tri/to-chuc/{ids['organisation']}",
                "GET /khong-co (404 page)",
            ],
        }
        for kind, paths in plan.items():
            client = logged_in(base, ids[f"{kind}_email"])
            try:
                for path in paths:
                    if path.startswith("GET /khong-co"):
                        result = time_page(
                            client, "GET", "/bao-cao/moi/khong-co", args.requests, status=404
                        )
                        rows.append((kind, path, result))
                        continue
                    if path.startswith("POST "):
                        data = {**FORM, "csrf_token": csrf(client, "/bao-cao/moi"), "check": "1"}
                        result = time_page(client, "POST", "/bao-cao/moi", args.requests, data)
                    else:
                        if "thong-ke" in path:
                            # The first request: timed on its own (until 2026-12-02 it
                            # computed the figures, then kept a minute; since, they are kept at
                            # write time, app.stats.kept, and the first costs as the others).
                            first = time_page(client, "GET", path, 1)
                            rows.append((kind, f"GET {path} (first)", first))
                        repeat = args.stats_requests if "thong-ke" in path else args.requests
                        result = time_page(client, "GET", path, repeat)
                    rows.append((kind, path if path.startswith("POST") else f"GET {path}", result))
                    print(f"  {kind} {path}: done", file=sys.stderr, flush=True)
            finally:
                client.close()
    return report(rows, floor, args)


def short(path: str) -> str:
    return re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", path)


def report(rows: list[tuple[str, str, dict[str, Any]]], floor: list[float], args: Any) -> int:
    print(f"\n{args.reports:,} reports; {args.requests} requests per page, one client at a time")
    print(
        f"floor (GET /healthz): p50 {percentile(floor, 50):.1f} ms, "
        f"p95 {percentile(floor, 95):.1f} ms\n"
    )
    print("| who | page | p50 ms | p95 ms | KB | p95 < 50 ms | < 100 KB |")
    print("|---|---|---:|---:|---:|---|---|")
    failed = 0
    for who, path, result in rows:
        fast = result["p95"] < TARGET_P95_MS
        small = result["bytes"] < TARGET_BYTES
        failed += (not fast) + (not small)
        print(
            f"| {who} | `{short(path)}` | {result['p50']:.1f} | {result['p95']:.1f} | "
            f"{result['bytes'] / 1024:.1f} | {'yes' if fast else 'NO'} | "
            f"{'yes' if small else 'NO'} |"
        )
    return 1 if failed else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reports", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=100)
    parser.add_argument("--stats-requests", type=int, default=20)
    parser.add_argument("--database-url", default=DEFAULT_URL)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    run_in_process(
        lambda: run(args), database_url=args.database_url, secret_key=SECRET_KEY, keep=args.keep
    )


if __name__ == "__main__":
    main()
