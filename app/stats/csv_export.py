"""The statistics as CSV that opens correctly in Excel.

UTF-8 with a byte-order mark (without it Excel reads UTF-8 as the local code page and breaks
Vietnamese names), comma-separated, CRLF line ends. Cells that start with ``=``, ``+``, ``-``
or ``@`` (and tab or carriage return) would be run as formulas by a spreadsheet (CSV
injection): they are prefixed with an apostrophe, which Excel shows as text.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from app.stats.schemas import Figures, StatsRead

BOM = "\ufeff"
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")

COLUMNS = [
    ("district_code", "Mã huyện"),
    ("district_name", "Đơn vị hành chính"),
    ("reports", "Số báo cáo"),
    ("labour_accidents", "Số vụ tai nạn lao động"),
    ("fatal_accidents", "Số vụ tai nạn lao động chết người"),
    ("deaths", "Số người chết do tai nạn lao động"),
    ("seriously_injured", "Số người bị thương nặng do tai nạn lao động"),
    ("technical_incidents", "Số sự cố kỹ thuật nghiêm trọng"),
    ("technical_incidents_fatal", "Số sự cố kỹ thuật có người chết"),
    ("technical_incident_deaths", "Số người chết do sự cố kỹ thuật"),
    ("technical_incident_seriously_injured", "Số người bị thương nặng do sự cố kỹ thuật"),
    ("investigations_open", "Điều tra đang mở"),
    ("investigations_overdue", "Điều tra quá hạn"),
    ("investigations_concluded", "Điều tra đã kết luận"),
    ("fatal_accidents_concluded", "Vụ tai nạn lao động chết người đã kết luận"),
    ("fatal_concluded_share", "Tỷ lệ vụ tai nạn lao động chết người đã kết luận"),
]


def safe_cell(value: Any) -> str:
    if value is None:
        return ""
    text = str(value)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _row(code: str, name: str, figures: Figures) -> list[str]:
    values = {"district_code": code, "district_name": name, **figures.model_dump()}
    return [safe_cell(values[key]) for key, _ in COLUMNS]


def render_csv(stats: StatsRead) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for _, header in COLUMNS])
    for district in stats.districts:
        writer.writerow(_row(district.district_code, district.district_name, district))
    total_name = "Toàn tỉnh" if stats.scope == "province" else "Tổng"
    writer.writerow(_row("", total_name, stats.total))
    return (BOM + out.getvalue()).encode("utf-8")


def filename(stats: StatsRead) -> str:
    return f"tnld-stats-{stats.year}.csv"
