"""The PDF receipt of a report: what was received, when, and who is being notified.

Drawn with fpdf2 (pure Python) in Noto Sans, bundled in ``fonts/`` (SIL Open Font License), so
no system package is needed. It carries counts, never victims' names or identity numbers."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from fpdf import FPDF

from app.notifications.models import Delivery
from app.reports.models import Report
from app.web import vietnamese as vi

FONTS = Path(__file__).parent / "fonts"


#: Receipts drawn lately, by everything they show: drawing one takes a good part of a second
#: (the font is subset into each file), reading it again should not.
_CACHE: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_CACHE_SIZE = 256
_LOCK = threading.Lock()


def receipt_pdf(report: Report, deliveries: Sequence[Delivery]) -> bytes:
    key = (
        report.id,
        report.version,
        tuple((d.id, d.status, d.delivered_at, d.acknowledged_at) for d in deliveries),
    )
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    pdf = _draw(report, deliveries)
    with _LOCK:
        _CACHE[key] = pdf
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return pdf


def _draw(report: Report, deliveries: Sequence[Delivery]) -> bytes:
    pdf = FPDF(format="A4")
    # Uncompressed, and the reference in a standard font: it stays greppable in the file's
    # bytes (the Noto text is stored as glyph ids, extractable by PDF readers only).
    pdf.set_compression(False)
    pdf.set_creator("tnld")
    pdf.set_title(f"Biên nhận {report.reference}")
    pdf.add_font("NotoSans", "", str(FONTS / "NotoSans-Regular.ttf"))
    pdf.add_font("NotoSans", "B", str(FONTS / "NotoSans-Bold.ttf"))
    pdf.set_margins(18, 18, 18)
    pdf.add_page()
    width = pdf.epw

    def line(text: str, *, size: int = 11, bold: bool = False, gap: float = 1.5) -> None:
        pdf.set_font("NotoSans", "B" if bold else "", size)
        pdf.multi_cell(width, size * 0.5, text, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(gap)

    line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", size=11, bold=True, gap=0)
    line("Độc lập - Tự do - Hạnh phúc", size=11, gap=4)
    line("BIÊN NHẬN KHAI BÁO TAI NẠN LAO ĐỘNG, SỰ CỐ", size=14, bold=True, gap=1)
    line("Mã hồ sơ:", size=13, bold=True, gap=0)
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(width, 7, report.reference, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    facts = [
        ("Thời điểm tiếp nhận", vi.gio(report.received_at)),
        ("Loại vụ việc", vi.CATEGORY.get(report.category.value, report.category.value)),
        ("Mức độ", vi.SEVERITY.get(report.severity.value, report.severity.value)),
        ("Thời điểm xảy ra", vi.gio(report.occurred_at)),
        ("Nơi xảy ra", report.place_name),
        ("Địa chỉ", report.address),
        ("Số người chết", str(report.dead_count)),
        ("Số người bị thương nặng", str(report.seriously_injured_count)),
        ("Số người bị thương nhẹ", str(report.minor_injury_count)),
        ("Đơn vị khai báo", report.submitted_by.name),
        ("Phiên bản hồ sơ", str(report.version)),
    ]
    for name, value in facts:
        line(f"{name}: {value}")
    pdf.ln(2)
    line("Cơ quan được thông báo", size=12, bold=True)
    if not deliveries:
        line("Không có")
    for delivery in deliveries:
        status = vi.DELIVERY.get(delivery.status.value, delivery.status.value)
        channel = vi.CHANNEL.get(delivery.channel.value if delivery.channel else None, "")
        ack = (
            f", đã xác nhận lúc {vi.gio(delivery.acknowledged_at)}"
            if delivery.acknowledged_at
            else ""
        )
        line(f"- {delivery.recipient_name} ({channel}): {status}{ack}")
    pdf.ln(4)
    line(
        "Biên nhận này xác nhận hệ thống tnld đã nhận khai báo theo Điều 34 Luật An toàn, vệ "
        "sinh lao động số 84/2015/QH13 và Điều 10 Nghị định 39/2016/NĐ-CP. Giờ ghi trên "
        "biên nhận là giờ Việt Nam.",
        size=9,
    )
    return bytes(pdf.output())
