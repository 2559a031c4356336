"""GET /stats as CSV: UTF-8 with BOM for Excel, Vietnamese intact, formula cells neutralised."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.stats.csv_export import render_csv, safe_cell
from app.stats.schemas import Figures, StatsRead, UnitFigures
from tests.helpers import API, Org, file_report


def rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))


@pytest.fixture
def one_report(client: TestClient, enterprise: Org, frozen_clock: Any) -> None:
    file_report(client, enterprise)


def test_format_csv_returns_csv_with_a_bom(
    client: TestClient, inspectorate: Org, one_report: None
) -> None:
    response = client.get(f"{API}/stats?year=2026&format=csv", headers=inspectorate.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    assert 'filename="tnld-stats-2026.csv"' in response.headers["content-disposition"]


def test_accept_text_csv_returns_csv(
    client: TestClient, inspectorate: Org, one_report: None
) -> None:
    response = client.get(
        f"{API}/stats?year=2026", headers={**inspectorate.headers, "Accept": "text/csv"}
    )
    assert response.headers["content-type"].startswith("text/csv")


def test_format_json_wins_over_accept(
    client: TestClient, inspectorate: Org, one_report: None
) -> None:
    response = client.get(
        f"{API}/stats?year=2026&format=json",
        headers={**inspectorate.headers, "Accept": "text/csv"},
    )
    assert response.headers["content-type"] == "application/json"


@pytest.mark.parametrize(
    ("accept", "csv_expected"),
    [
        ("application/json", False),
        ("*/*", False),
        ("text/csv;q=0.5, application/json", False),
        ("application/json;q=0.1, text/csv", True),
        ("text/csv, */*;q=0.8", True),
    ],
)
def test_accept_preferences(
    client: TestClient, inspectorate: Org, one_report: None, accept: str, csv_expected: bool
) -> None:
    response = client.get(
        f"{API}/stats?year=2026", headers={**inspectorate.headers, "Accept": accept}
    )
    assert response.headers["content-type"].startswith("text/csv") is csv_expected


def test_csv_has_the_same_figures_as_json(
    client: TestClient, inspectorate: Org, one_report: None
) -> None:
    as_json = client.get(f"{API}/stats?year=2026", headers=inspectorate.headers).json()
    table = rows(
        client.get(f"{API}/stats?year=2026&format=csv", headers=inspectorate.headers).content
    )
    header, *units, total = table
    assert header[:5] == [
        "Mã đơn vị",
        "Đơn vị hành chính",
        "Bản đồ hành chính",
        "Mã huyện (trước 01/7/2025)",
        "Số báo cáo",
    ]
    assert len(units) == 102
    [tan_lap] = [row for row in units if row[0] == "24121"]
    assert tan_lap[:6] == ["24121", "Phường Tân Lập", "2025", "643", "1", "1"]
    [tuy_hoa] = [row for row in units if row[0] == "22015"]
    assert tuy_hoa[3] == "555 563"  # a ward spanning two old districts
    assert tuy_hoa[-1] == ""  # no fatal accidents: no share
    assert total[1] == "Toàn tỉnh"
    assert total[4] == str(as_json["total"]["reports"])


def test_csv_lines_end_with_crlf(client: TestClient, inspectorate: Org, one_report: None) -> None:
    content = client.get(
        f"{API}/stats?year=2026&format=csv", headers=inspectorate.headers
    ).content.decode("utf-8-sig")
    assert content.count("\r\n") == 1 + 102 + 1
    assert "\n" not in content.replace("\r\n", "")


def test_area_scope_csv_has_its_commune_and_a_total(
    client: TestClient, police: Org, one_report: None
) -> None:
    table = rows(client.get(f"{API}/stats?year=2026&format=csv", headers=police.headers).content)
    assert [row[0] for row in table[1:]] == ["24121", ""]
    assert table[-1][1] == "Tổng"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1", "'+1"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("a=b", "a=b"),
        ("Huyện Ea H'leo", "Huyện Ea H'leo"),
        (12, "12"),
        (None, ""),
    ],
)
def test_cells_starting_like_a_formula_are_neutralised(value: Any, expected: str) -> None:
    assert safe_cell(value) == expected


def test_rendered_csv_neutralises_and_quotes_names() -> None:
    zero = Figures(
        reports=0,
        labour_accidents=0,
        fatal_accidents=0,
        deaths=0,
        seriously_injured=0,
        technical_incidents=0,
        technical_incidents_fatal=0,
        technical_incident_deaths=0,
        technical_incident_seriously_injured=0,
        investigations_open=0,
        investigations_overdue=0,
        investigations_concluded=0,
        fatal_accidents_concluded=0,
        fatal_concluded_share=None,
    )
    stats = StatsRead(
        year=2026,
        basis="occurred_at",
        by="place",
        scope="province",
        as_of=datetime(2026, 11, 20, tzinfo=UTC),
        units=[
            UnitFigures(
                code="-9",
                name='=cmd|" /C calc"!A0, "Xã"',
                level="commune",
                map="2025",
                district_codes=[],
                **zero.model_dump(),
            )
        ],
        total=zero,
    )
    table = rows(render_csv(stats))
    assert table[1][0] == "'-9"
    assert table[1][1] == '\'=cmd|" /C calc"!A0, "Xã"'


def test_csv_counts_labour_accidents_and_technical_incidents_in_their_own_columns(
    client: TestClient, inspectorate: Org, one_report: None
) -> None:
    as_json = client.get(f"{API}/stats?year=2026", headers=inspectorate.headers).json()
    header, *_, total = rows(
        client.get(f"{API}/stats?year=2026&format=csv", headers=inspectorate.headers).content
    )
    by_header = dict(zip(header, total, strict=True))
    assert by_header["Số vụ tai nạn lao động"] == str(as_json["total"]["labour_accidents"])
    assert by_header["Số vụ tai nạn lao động chết người"] == str(
        as_json["total"]["fatal_accidents"]
    )
    for name in (
        "Số sự cố kỹ thuật nghiêm trọng",
        "Số sự cố kỹ thuật có người chết",
        "Số người chết do sự cố kỹ thuật",
        "Số người bị thương nặng do sự cố kỹ thuật",
    ):
        assert by_header[name] == "0"
