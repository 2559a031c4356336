"""What a notification e-mail says: its Vietnamese subject and plain text, a pure function of a
typed notice (:func:`notice`, from the event's frozen payload). The e-mail channel
(app.notifications.email) wraps it in a message; app.notifications.mailer carries it (SMTP, or
``.eml`` files into ``TNLD_MAIL_DIR``). Nothing here reads the database, the clock or settings.

The message states facts, never judgements (contract, Notifications): severity as its class
with the counts (Decree 39/2016 Art. 9), "chết người" in the subject whenever anyone died,
whatever the category, and, where the report arrived more than 24 hours after the accident,
how many hours passed. Law 84/2015 Art. 34 asks for a declaration "immediately" and sets no
hour count, and since Decree 283/2026 a late declaration is fined: calling a report late would
be an accusation the service has no ground for. Nor does it name a threshold the report does
not meet (a technical incident with one seriously injured worker is not "two or more").
Victims' names, identity numbers and injuries are never in an e-mail (Law 91/2025 on personal
data): an amendment shows that such a field changed, not its value.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from app.clock import vietnam_time
from app.divisions.places import in_sentence
from app.divisions.service import divisions

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


# -- the typed notice -------------------------------------------------------------------------


class _Facts(BaseModel):
    # Payloads are frozen when the event is written: older events may lack newer fields, and a
    # field the e-mail does not use is ignored.
    model_config = ConfigDict(extra="ignore", frozen=True)


class Reporter(_Facts):
    full_name: str = ""
    position: str | None = None
    phone: str = ""
    email: str | None = None


class Submitter(_Facts):
    name: str = ""


class Change(_Facts):
    field: str = ""
    before: Any = Field(default=None, alias="from")
    after: Any = Field(default=None, alias="to")


class Amendment(_Facts):
    version: int | str = "?"
    changes: list[Change] = []


class ReportFacts(_Facts):
    """What the e-mail says of a report (the ``report.*`` events' payload)."""

    id: str
    reference: str
    category: str
    severity: str
    dead_count: int = 0
    seriously_injured_count: int = 0
    minor_injury_count: int = 0
    occurred_at: str | None = None
    received_at: str | None = None
    commune_code: str | None = None
    district_code: str | None = None
    place_name: str | None = None
    commune: str | None = None
    address: str
    summary: str
    initial_cause: str | None = None
    measures_taken: str | None = None
    employer_name: str | None = None
    reporter: Reporter = Reporter()
    submitted_by: Submitter | None = None
    #: Only in ``report.amended``.
    amendment: Amendment | None = None


class DigestItem(_Facts):
    reference: str
    commune_code: str | None = None
    district_code: str | None = None
    place_name: str | None = None
    due_at: str | None = None


class DigestFacts(_Facts):
    """The deadline digest's payload (app.ops.digest)."""

    date: dt.date
    due_soon: list[DigestItem] = []
    overdue: list[DigestItem] = []


@dataclass(frozen=True)
class ReportNotice:
    """A report's notification to one recipient (``report.created``, ``report.amended``,
    ``report.unacknowledged``)."""

    event_type: str
    delivery_id: uuid.UUID
    report: ReportFacts
    #: No police organisation covers the place (decided when the outbox rows were written).
    police_unroutable: bool = False


@dataclass(frozen=True)
class DigestNotice:
    digest: DigestFacts


class KeyOrganisation(_Facts):
    name: str


class KeyFacts(_Facts):
    id: str
    label: str | None = None
    created_at: str | None = None


class KeyCreator(_Facts):
    organisation_id: str
    organisation_name: str
    api_key_id: str | None = None


class KeyCreatedFacts(_Facts):
    """A new API key's payload (app.auth.service): never the key itself."""

    organisation: KeyOrganisation
    api_key: KeyFacts
    #: None when the key was made with the command line.
    created_by: KeyCreator | None = None


@dataclass(frozen=True)
class KeyCreatedNotice:
    key: KeyCreatedFacts


Notice = ReportNotice | DigestNotice | KeyCreatedNotice
DIGEST_EVENT = "investigation.deadline"
#: The outbox event of a new API key (app.auth.service), sent by e-mail only.
KEY_CREATED = "api_key.created"


def notice(
    *,
    event_type: str,
    payload: dict[str, Any],
    delivery_id: uuid.UUID,
    police_unroutable: bool = False,
) -> Notice:
    """The typed notice of an event's payload (raises pydantic's ValidationError if it lacks
    what the e-mail needs)."""
    if event_type == DIGEST_EVENT:
        return DigestNotice(DigestFacts.model_validate(payload))
    if event_type == KEY_CREATED:
        return KeyCreatedNotice(KeyCreatedFacts.model_validate(payload))
    return ReportNotice(
        event_type=event_type,
        delivery_id=delivery_id,
        report=ReportFacts.model_validate(payload),
        police_unroutable=police_unroutable,
    )


@dataclass(frozen=True)
class Letter:
    subject: str
    body: str


def compose(notice: Notice) -> Letter:
    """The e-mail's subject and text."""
    if isinstance(notice, DigestNotice):
        return Letter(_digest_subject(notice.digest), _digest_body(notice.digest))
    if isinstance(notice, KeyCreatedNotice):
        return Letter(
            f"Khóa API mới của {notice.key.organisation.name} trên hệ thống tnld",
            _key_body(notice.key),
        )
    return Letter(subject(notice), body(notice))


# -- the text ---------------------------------------------------------------------------------


def _time(value: str | None) -> str:
    if not value:
        return "(không rõ)"
    moment = vietnam_time(datetime.fromisoformat(value))
    return f"{moment:%H:%M} ngày {moment:%d/%m/%Y} (giờ Việt Nam, UTC+07:00)"


def _place_name(place: ReportFacts | DigestItem) -> str:
    """The place's full name on the accident's date (events queued before v2 carry only the
    district's code)."""
    if place.place_name:
        return place.place_name
    code = place.district_code or ""
    districts = divisions().versions(code, level="district")
    return divisions().full_name(districts[0]) if districts else code


def _place(place: ReportFacts | DigestItem) -> str:
    code = place.commune_code or place.district_code
    return f"{_place_name(place)} (mã {code})" if code else _place_name(place)


def subject(notice: ReportNotice) -> str:
    report = notice.report
    what = "Tai nạn lao động" if report.category == "labour_accident" else "Sự cố kỹ thuật"
    if report.dead_count > 0:
        what += " chết người"
    prefix = "Cập nhật báo cáo" if notice.event_type == "report.amended" else "Thông báo"
    if notice.event_type == "report.unacknowledged":
        # Sent again: the labour authority has not acknowledged the first notice (escalation.py).
        prefix = "CHƯA XÁC NHẬN - Nhắc lại thông báo"
    return f"[{report.reference}] {prefix}: {what} tại {in_sentence(_place_name(report))}"


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


def _shown_victim_change(change: Change) -> bool:
    """A victim's change that may be spelt out: a non-personal field, or a victim added or
    removed (shown by outcome only)."""
    last = change.field.rpartition("/")[2]
    if last.isdigit():
        return all(v is None or isinstance(v, dict) for v in (change.before, change.after))
    return last in SHOWN_VICTIM_FIELDS and last not in PERSONAL_FIELDS


def _amendment(amendment: Amendment) -> list[str]:
    lines = [
        f"BÁO CÁO ĐÃ ĐƯỢC BỔ SUNG, CẬP NHẬT (phiên bản {amendment.version}).",
        "Nội dung thay đổi:",
    ]
    for change in amendment.changes:
        pointer = change.field
        if pointer == "/victims" or (
            pointer.startswith("/victims/") and not _shown_victim_change(change)
        ):
            # Names, identity numbers and injuries never travel by e-mail (Law 91/2025 on
            # personal data): the field's name says what changed; the report says how.
            lines.append(f"  - {_field(pointer)}: đã thay đổi (xem trong hệ thống)")
            continue
        lines.append(f"  - {_field(pointer)}: {_value(change.before)} → {_value(change.after)}")
    return [*lines, ""]


def _hours_before_receipt(report: ReportFacts) -> int | None:
    """Whole hours from the accident to its receipt, when more than 24; else None."""
    if not report.occurred_at or not report.received_at:
        return None
    elapsed = datetime.fromisoformat(report.received_at) - datetime.fromisoformat(
        report.occurred_at
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


def _digest_subject(digest: DigestFacts) -> str:
    day = digest.date.strftime("%d/%m/%Y")
    return (
        f"Nhắc hạn điều tra {day}: {len(digest.due_soon)} sắp đến hạn, "
        f"{len(digest.overdue)} quá hạn"
    )


def _digest_body(digest: DigestFacts) -> str:
    """The deadline digest (app.ops.digest): references, places and deadlines, no one's name."""
    lines = [
        "Danh sách các cuộc điều tra tai nạn lao động cần lưu ý về thời hạn điều tra "
        "(Luật An toàn, vệ sinh lao động 2015, Điều 35).",
        "",
    ]
    for items, title in (
        (digest.overdue, "Đã quá hạn"),
        (digest.due_soon, "Đến hạn trong 3 ngày làm việc tới"),
    ):
        lines.append(f"{title}: {len(items)}")
        for item in items:
            lines.append(f"- {item.reference} — {_place(item)} — hạn: {_time(item.due_at)}")
        lines.append("")
    return "\n".join(lines)


def body(notice: ReportNotice) -> str:
    report = notice.report
    reporter = report.reporter
    lines: list[str] = []
    if notice.event_type == "report.amended" and report.amendment is not None:
        lines += _amendment(report.amendment)
    else:
        lines += [*_heading(report.category), ""]
    if notice.police_unroutable:
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
        f"Mã báo cáo: {report.reference}",
        f"Loại: {CATEGORY.get(report.category, report.category)}",
        f"Mức độ: {SEVERITY.get(report.severity, report.severity)}",
        f"  - Chết: {report.dead_count} người",
        f"  - Bị thương nặng: {report.seriously_injured_count} người",
        f"  - Bị thương nhẹ: {report.minor_injury_count} người",
        f"Thời gian xảy ra: {_time(report.occurred_at)}",
        f"Thời gian tiếp nhận: {_time(report.received_at)}",
    ]
    hours = _hours_before_receipt(report)
    if hours is not None:
        lines.append(f"Khoảng thời gian từ khi xảy ra đến khi tiếp nhận: {hours} giờ")
    lines.append(f"Địa bàn: {_place(report)}")
    if report.commune:
        lines.append(f"Xã/phường: {report.commune}")
    lines.append(f"Địa chỉ: {report.address}")
    if report.employer_name:
        lines.append(f"Đơn vị sử dụng lao động: {report.employer_name}")
    lines += [
        "",
        "Tóm tắt diễn biến:",
        report.summary,
        "",
    ]
    if report.initial_cause:
        lines += [f"Nguyên nhân ban đầu: {report.initial_cause}"]
    if report.measures_taken:
        lines += [f"Biện pháp đã thực hiện: {report.measures_taken}"]
    position = f" ({reporter.position})" if reporter.position else ""
    lines += [
        "",
        f"Người báo cáo: {reporter.full_name}{position}",
        f"Điện thoại: {reporter.phone}",
    ]
    if reporter.email:
        lines.append(f"Thư điện tử: {reporter.email}")
    if report.submitted_by is not None:
        lines.append(f"Đơn vị gửi báo cáo: {report.submitted_by.name}")
    lines += [
        "",
        "Xác nhận đã nhận thông báo (API tnld):",
        f"  POST /api/v1/notifications/{notice.delivery_id}/acknowledge",
        f"Xem báo cáo: GET /api/v1/reports/{report.id}",
        "",
        "Thư này được gửi tự động bởi hệ thống tnld; vui lòng không trả lời thư này.",
    ]
    return "\n".join(lines) + "\n"


def _key_body(notice: KeyCreatedFacts) -> str:
    """A key was created for the organisation (app.auth.service): which, when, by whom; never
    the key itself, which only its creator saw, once."""
    key, by = notice.api_key, notice.created_by
    creator = (
        f"{by.organisation_name} (mã tổ chức {by.organisation_id}"
        + (f", qua khóa API {by.api_key_id})" if by.api_key_id else ")")
        if by
        else "quản trị viên hệ thống, bằng dòng lệnh tnld"
    )
    lines = [
        f"Một khóa API mới vừa được tạo cho {notice.organisation.name}.",
        "",
        f"Mã khóa: {key.id}",
        f"Tên khóa: {key.label or '(không đặt tên)'}",
        f"Thời gian tạo: {_time(key.created_at)}",
        f"Người tạo: {creator}",
        "",
        "Khóa bí mật không được gửi qua thư này và không được hệ thống lưu lại.",
        "Nếu quý cơ quan không yêu cầu tạo khóa này, đề nghị liên hệ ngay quản trị viên hệ "
        f"thống để thu hồi khóa (DELETE /api/v1/api-keys/{key.id}).",
        "",
        "Thư này được gửi tự động bởi hệ thống tnld; vui lòng không trả lời thư này.",
    ]
    return "\n".join(lines) + "\n"
