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
    ("code", "Mã đơn vị"),
    ("name", "Đơn vị hành chính"),
    ("map", "Bản đồ hành chính"),
    ("district_codes", "Mã huyện (trước 01/7/2025)"),
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


def _row(unit: dict[str, Any], figures: Figures) -> list[str]:
    values = {**figures.model_dump(), **unit}
    return [safe_cell(values[key]) for key, _ in COLUMNS]


def render_csv(stats: StatsRead) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([header for _, header in COLUMNS])
    for unit in stats.units:
        writer.writerow(
            _row(
                {
                    "code": unit.code,
                    "name": unit.name,
                    "map": unit.map,
                    "district_codes": " ".join(unit.district_codes),
                },
                unit,
            )
        )
    total_name = "Toàn tỉnh" if stats.scope == "province" else "Tổng"
    writer.writerow(
        _row({"code": "", "name": total_name, "map": "", "district_codes": ""}, stats.total)
    )
    return (BOM + out.getvalue()).encode("utf-8")


def filename(stats: StatsRead) -> str:
    return f"tnld-stats-{stats.year}.csv"
