"""Notification e-mails: the Vietnamese plain-text message. Sending it (over SMTP or, when no
SMTP host is configured, as an ``.eml`` file into ``TNLD_MAIL_DIR``) is app.notifications.mailer.

The message states facts, never judgements (contract, Notifications): severity as its class
with the counts (Decree 39/2016 Art. 9), "chết người" in the subject whenever anyone died,
whatever the category, and, where the report arrived more than 24 hours after the accident,
how many hours passed. Law 84/2015 Art. 34 asks for a declaration "immediately" and sets no
hour count, and since Decree 283/2026 a late declaration is fined: calling a report late would
be an accusation the service has no ground for. Nor does it name a threshold the report does
not meet (a technical incident with one seriously injured worker is not "two or more").
Victims' names, identity numbers and injuries are never in an e-mail (Law 91/2025 on personal
data): an amendment shows that such a field changed, not its value.

The ``Message-ID`` is derived from the delivery id, so every retry of one delivery carries the
same id and a receiving system can drop duplicates (delivery is at least once).
"""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from email.header import Header
from email.message import Message
from email.mime.text import MIMEText
from email.policy import compat32
from email.utils import format_datetime
from typing import Any

from app.clock import vietnam_time
from app.divisions.places import in_sentence
from app.divisions.service import divisions
from app.notifications.jobs import Job

#: Decree 39/2016 Art. 9: the class, without any threshold of the Law's (the counts follow).
SEVERITY = {
    "fatal": "Chết người",
    "serious": "Có người bị thương nặng",
    "minor": "Chỉ có người bị thương nhẹ",
    "none": "Không có người bị nạn",
}
#: Victims' personal data, which never leaves the service by e-mail (contract, Security and
#: privacy); the reporter's contact is in every e-mail on purpose.
PERSONAL_FIELDS = frozenset({"full_name", "national_id", "injury"})
#: Above this, the e-mail says how many hours passed between the accident and its receipt.
HOURS_SHOWN_AFTER = 24
CATEGORY = {
    "labour_accident": "Tai nạn lao động",
    "technical_incident": "Sự cố kỹ thuật gây mất an toàn, vệ sinh lao động nghiêm trọng",
}
OUTCOME = {"dead": "Chết", "seriously_injured": "Bị thương nặng", "minor_injury": "Bị thương nhẹ"}
FIELD = {
    "category": "Loại",
    "occurred_at": "Thời gian xảy ra",
    "commune_code": "Mã xã/phường",
    "district_code": "Mã huyện",
    "commune": "Xã/phường",
    "address": "Địa chỉ",
    "summary": "Tóm tắt diễn biến",
    "initial_cause": "Nguyên nhân ban đầu",
    "measures_taken": "Biện pháp đã thực hiện",
    "employer_name": "Đơn vị sử dụng lao động",
    "victims": "Danh sách người bị nạn",
    "reporter": "Người báo cáo",
    "full_name": "họ và tên",
    "gender": "giới tính",
    "birth_year": "năm sinh",
    "occupation": "nghề nghiệp",
    "national_id": "số CCCD",
    "employment": "loại hợp đồng",
    "outcome": "tình trạng",
    "injury": "thương tích",
    "position": "chức vụ",
    "phone": "điện thoại",
    "email": "thư điện tử",
}


#: The outbox event of a new API key (app.auth.service), sent by e-mail only.
KEY_CREATED = "api_key.created"


def message_id(delivery_id: uuid.UUID, sender: str) -> str:
    domain = sender.rpartition("@")[2].strip(" >") or "tnld.localhost"
    return f"<{delivery_id}@{domain}>"


def _time(value: str | None) -> str:
    if not value:
        return "(không rõ)"
    moment = vietnam_time(datetime.fromisoformat(value))
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y} (giờ Việt Nam, UTC+07:00)"


def _place_name(report: dict[str, Any]) -> str:
    """The place's full name on the accident's date (events queued before v2 carry only the
    district's code)."""
    if report.get("place_name"):
        return str(report["place_name"])
    code = str(report.get("district_code") or "")
    districts = divisions().versions(code, level="district")
    return divisions().full_name(districts[0]) if districts else code


def _place(report: dict[str, Any]) -> str:
    code = report.get("commune_code") or report.get("district_code")
    return f"{_place_name(report)} (mã {code})" if code else _place_name(report)


def subject(job: Job) -> str:
    if job.event_type == "investigation.deadline":
        return _digest_subject(job.payload)
    if job.event_type == KEY_CREATED:
        return f"Khóa API mới của {job.payload['organisation']['name']} trên hệ thống tnld"
    report = job.payload
    what = "Tai nạn lao động" if report["category"] == "labour_accident" else "Sự cố kỹ thuật"
    if report.get("dead_count", 0) > 0:
        what += " chết người"
    prefix = "Cập nhật báo cáo" if job.event_type == "report.amended" else "Thông báo"
    if job.event_type == "report.unacknowledged":
        # Sent again: the labour authority has not acknowledged the first notice (escalation.py).
        prefix = "CHƯA XÁC NHẬN - Nhắc lại thông báo"
    return f"[{report['reference']}] {prefix}: {what} tại {in_sentence(_place_name(report))}"


#: A changed text longer than this is cut in the e-mail (the webhook carries it whole).
MAX_CHANGE_TEXT = 300


def _value(value: Any) -> str:
    text = _plain_value(value)
    return text if len(text) <= MAX_CHANGE_TEXT else text[: MAX_CHANGE_TEXT - 1] + "…"


def _plain_value(value: Any) -> str:
    if value is None or value == "":
        return "(trống)"
    if isinstance(value, dict) and "outcome" in value:
        # A victim added by an amendment: the outcome only, never the name.
        return f"Người bị nạn ({OUTCOME.get(str(value['outcome']), value['outcome'])})"
    if isinstance(value, str):
        return OUTCOME.get(value, SEVERITY.get(value, CATEGORY.get(value, value)))
    return json.dumps(value, ensure_ascii=False)


def _field(pointer: str) -> str:
    """``/victims/0/outcome`` → ``Người bị nạn số 1 – tình trạng``."""
    parts = pointer.strip("/").split("/")
    if len(parts) >= 2 and parts[0] == "victims" and parts[1].isdigit():
        label = f"Người bị nạn số {int(parts[1]) + 1}"
        return f"{label} – {FIELD.get(parts[2], parts[2])}" if len(parts) > 2 else label
    labels = [FIELD.get(p, p) for p in parts]
    return " – ".join(labels) if labels else pointer


#: A victim's fields whose values an e-mail may show (the rest are personal or free text).
SHOWN_VICTIM_FIELDS = frozenset({"outcome", "gender", "employment"})


def _shown_victim_change(pointer: str, change: dict[str, Any]) -> bool:
    """A victim's change that may be spelt out: a non-personal field, or a victim added or
    removed (shown by outcome only)."""
    last = pointer.rpartition("/")[2]
    if last.isdigit():
        values = [change.get("from"), change.get("to")]
        return all(v is None or isinstance(v, dict) for v in values)
    return last in SHOWN_VICTIM_FIELDS and last not in PERSONAL_FIELDS


def _amendment(amendment: dict[str, Any]) -> list[str]:
    lines = [
        f"BÁO CÁO ĐÃ ĐƯỢC BỔ SUNG, CẬP NHẬT (phiên bản {amendment.get('version', '?')}).",
        "Nội dung thay đổi:",
    ]
    for change in amendment.get("changes", []):
        pointer = str(change.get("field", ""))
        if pointer == "/victims" or (
            pointer.startswith("/victims/") and not _shown_victim_change(pointer, change)
        ):
            # Names, identity numbers and injuries never travel by e-mail (Law 91/2025 on
            # personal data): the field's name says what changed; the report says how.
            lines.append(f"  - {_field(pointer)}: đã thay đổi (xem trong hệ thống)")
            continue
        lines.append(
            f"  - {_field(pointer)}: {_value(change.get('from'))} → {_value(change.get('to'))}"
        )
    return [*lines, ""]


def _hours_before_receipt(report: dict[str, Any]) -> int | None:
    """Whole hours from the accident to its receipt, when more than 24; else None."""
    if not report.get("occurred_at") or not report.get("received_at"):
        return None
    elapsed = datetime.fromisoformat(report["received_at"]) - datetime.fromisoformat(
        report["occurred_at"]
    )
    hours = int(elapsed.total_seconds() // 3600)
    return hours if elapsed.total_seconds() > HOURS_SHOWN_AFTER * 3600 else None


def _heading(category: str) -> list[str]:
    if category == "technical_incident":
        return [
            "THÔNG BÁO SỰ CỐ KỸ THUẬT GÂY MẤT AN TOÀN, VỆ SINH LAO ĐỘNG NGHIÊM TRỌNG",
            "(Điều 19 Luật An toàn, vệ sinh lao động 2015)",
        ]
    return [
        "THÔNG BÁO TAI NẠN LAO ĐỘNG",
        "(Điều 34 Luật An toàn, vệ sinh lao động 2015; Điều 10 Nghị định 39/2016/NĐ-CP)",
    ]


def _digest_subject(digest: dict[str, Any]) -> str:
    day = date.fromisoformat(digest["date"]).strftime("%d/%m/%Y")
    return (
        f"Nhắc hạn điều tra {day}: {len(digest['due_soon'])} sắp đến hạn, "
        f"{len(digest['overdue'])} quá hạn"
    )


def _digest_body(digest: dict[str, Any]) -> str:
    """The deadline digest (app.ops.digest): references, places and deadlines, no one's name."""
    lines = [
        "Danh sách các cuộc điều tra tai nạn lao động cần lưu ý về thời hạn điều tra "
        "(Luật An toàn, vệ sinh lao động 2015, Điều 35).",
        "",
    ]
    for key, title in (
        ("overdue", "Đã quá hạn"),
        ("due_soon", "Đến hạn trong 3 ngày làm việc tới"),
    ):
        items = digest.get(key) or []
        lines.append(f"{title}: {len(items)}")
        for item in items:
            lines.append(f"- {item['reference']} — {_place(item)} — hạn: {_time(item['due_at'])}")
        lines.append("")
    return "\n".join(lines)


def _key_body(notice: dict[str, Any]) -> str:
    """A key was created for the organisation (app.auth.service): which, when, by whom; never
    the key itself, which only its creator saw, once."""
    key, by = notice["api_key"], notice.get("created_by")
    creator = (
        f"{by['organisation_name']} (mã tổ chức {by['organisation_id']}"
        + (f", qua khóa API {by['api_key_id']})" if by.get("api_key_id") else ")")
        if by
        else "quản trị viên hệ thống, bằng dòng lệnh tnld"
    )
    lines = [
        f"Một khóa API mới vừa được tạo cho {notice['organisation']['name']}.",
        "",
        f"Mã khóa: {key['id']}",
        f"Tên khóa: {key.get('label') or '(không đặt tên)'}",
        f"Thời gian tạo: {_time(key.get('created_at'))}",
        f"Người tạo: {creator}",
        "",
        "Khóa bí mật không được gửi qua thư này và không được hệ thống lưu lại.",
        "Nếu quý cơ quan không yêu cầu tạo khóa này, đề nghị liên hệ ngay quản trị viên hệ "
        "thống để thu hồi khóa (DELETE /api/v1/api-keys/" + str(key["id"]) + ").",
        "",
        "Thư này được gửi tự động bởi hệ thống tnld; vui lòng không trả lời thư này.",
    ]
    return "\n".join(lines) + "\n"


def body(job: Job) -> str:
    if job.event_type == "investigation.deadline":
        return _digest_body(job.payload)
    if job.event_type == KEY_CREATED:
        return _key_body(job.payload)
    report = job.payload
    reporter = report.get("reporter") or {}
    lines: list[str] = []
    if job.event_type == "report.amended" and isinstance(report.get("amendment"), dict):
        lines += _amendment(report["amendment"])
    else:
        lines += [*_heading(str(report["category"])), ""]
    if job.police_unroutable:
        # Law 84/2015 Art. 34.1.b asks for the police when someone died, and the provincial
        # plan for every notifiable report (TNLD_NOTIFY_POLICE): when no police organisation
        # of the place is registered, the labour authority must know to tell them itself.
        lines += [
            "LƯU Ý: Không thể tự động thông báo cho cơ quan công an nơi xảy ra, tại "
            f"{in_sentence(_place_name(report))}"
            " (chưa có cơ quan công an nào của địa bàn này đăng ký nhận thông báo).",
            "Đề nghị liên hệ trực tiếp với Công an địa phương.",
            "",
        ]
    lines += [
        f"Mã báo cáo: {report['reference']}",
        f"Loại: {CATEGORY.get(report['category'], report['category'])}",
        f"Mức độ: {SEVERITY.get(report['severity'], report['severity'])}",
        f"  - Chết: {report.get('dead_count', 0)} người",
        f"  - Bị thương nặng: {report.get('seriously_injured_count', 0)} người",
        f"  - Bị thương nhẹ: {report.get('minor_injury_count', 0)} người",
        f"Thời gian xảy ra: {_time(report.get('occurred_at'))}",
        f"Thời gian tiếp nhận: {_time(report.get('received_at'))}",
    ]
    hours = _hours_before_receipt(report)
    if hours is not None:
        lines.append(f"Khoảng thời gian từ khi xảy ra đến khi tiếp nhận: {hours} giờ")
    lines.append(f"Địa bàn: {_place(report)}")
    if report.get("commune"):
        lines.append(f"Xã/phường: {report['commune']}")
    lines.append(f"Địa chỉ: {report['address']}")
    if report.get("employer_name"):
        lines.append(f"Đơn vị sử dụng lao động: {report['employer_name']}")
    lines += [
        "",
        "Tóm tắt diễn biến:",
        str(report["summary"]),
        "",
    ]
    if report.get("initial_cause"):
        lines += [f"Nguyên nhân ban đầu: {report['initial_cause']}"]
    if report.get("measures_taken"):
        lines += [f"Biện pháp đã thực hiện: {report['measures_taken']}"]
    position = f" ({reporter['position']})" if reporter.get("position") else ""
    lines += [
        "",
        f"Người báo cáo: {reporter.get('full_name', '')}{position}",
        f"Điện thoại: {reporter.get('phone', '')}",
    ]
    if reporter.get("email"):
        lines.append(f"Thư điện tử: {reporter['email']}")
    if report.get("submitted_by"):
        lines.append(f"Đơn vị gửi báo cáo: {report['submitted_by'].get('name', '')}")
    lines += [
        "",
        "Xác nhận đã nhận thông báo (API tnld):",
        f"  POST /api/v1/notifications/{job.delivery_id}/acknowledge",
        f"Xem báo cáo: GET /api/v1/reports/{report['id']}",
        "",
        "Thư này được gửi tự động bởi hệ thống tnld; vui lòng không trả lời thư này.",
    ]
    return "\n".join(lines) + "\n"


#: The longest line RFC 5322 allows (§2.1.1): headers are written unfolded.
UNFOLDED = 998
UNFOLDED_HEADERS = compat32.clone(max_line_length=UNFOLDED)


def build_message(job: Job, *, sender: str) -> Message:
    # The compat32 classes, not EmailMessage: building and flattening an EmailMessage (its header
    # registry folds and re-parses every header) cost 1.3 ms of CPU per e-mail, five times this,
    # and a backlog of thousands is sent by one process (bench/README.md, Notifications).
    message = MIMEText(body(job), "plain", "utf-8", policy=UNFOLDED_HEADERS)
    # One encoded word, never folded (RFC 5322 §2.1.1 allows 998 characters): Python's folding
    # of RFC 2047 encoded words can drop the space between two words at a fold (the subject
    # then read "kỹthuật").
    message["Subject"] = Header(subject(job), "utf-8", maxlinelen=UNFOLDED).encode()
    message["From"] = sender
    message["To"] = ", ".join(job.emails)
    # Stable across retries: the date the event happened, the id of this delivery.
    message["Date"] = format_datetime(job.event_created_at)
    message["Message-ID"] = message_id(job.delivery_id, sender)
    message["Auto-Submitted"] = "auto-generated"
    if "reference" in job.payload:  # the deadline digest is about several reports
        message["X-TNLD-Reference"] = str(job.payload["reference"])
    return message
