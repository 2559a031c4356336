"""The report form (contract, Web interface): its fields are named after the API's, its answers
become the API's request body, and the API's rules answer it, in Vietnamese."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from app import clock
from app.divisions.service import divisions
from app.errors import FieldError
from app.identity_numbers import coded_birth_year, national_id_doubts
from app.web import vietnamese as vi

#: The first day of map 2025 (Resolution 1660/NQ-UBTVQH15 Art. 2: districts abolished).
REFORM_DAY = date(2025, 7, 1)
MAP_2024_LAST_DAY = date(2025, 6, 30)

TOP_FIELDS = (
    "category",
    "occurred_date",
    "occurred_time",
    "commune_code",
    "district_code",
    "commune",
    "address",
    "summary",
    "initial_cause",
    "measures_taken",
    "employer_name",
)
VICTIM_FIELDS = (
    "full_name",
    "gender",
    "birth_year",
    "occupation",
    "national_id",
    "employment",
    "outcome",
    "injury",
)
REPORTER_FIELDS = ("full_name", "position", "phone", "email")
MAX_VICTIM_ROWS = 500

LABELS: dict[str, str] = {
    "category": "Loại vụ việc",
    "occurred_date": "Ngày xảy ra",
    "occurred_time": "Giờ xảy ra",
    "commune_code": "Xã, phường nơi xảy ra",
    "district_code": "Huyện nơi xảy ra (chỉ vụ việc trước 01/07/2025)",
    "commune": "Thôn, tổ dân phố, địa danh",
    "address": "Địa chỉ nơi xảy ra",
    "summary": "Tóm tắt diễn biến",
    "initial_cause": "Nguyên nhân ban đầu",
    "measures_taken": "Biện pháp đã xử lý",
    "employer_name": "Tên người sử dụng lao động",
    "victim-full_name": "Họ và tên",
    "victim-gender": "Giới tính",
    "victim-birth_year": "Năm sinh",
    "victim-occupation": "Nghề nghiệp",
    "victim-national_id": "Số định danh cá nhân (12 số)",
    "victim-employment": "Quan hệ lao động",
    "victim-outcome": "Tình trạng",
    "victim-injury": "Thương tích",
    "reporter-full_name": "Họ và tên người báo cáo",
    "reporter-position": "Chức vụ",
    "reporter-phone": "Số điện thoại",
    "reporter-email": "Thư điện tử",
}


def label(name: str) -> str:
    match = re.fullmatch(r"victims-(\d+)-(\w+)", name)
    if match:
        return f"{LABELS['victim-' + match[2]]} (người bị nạn {int(match[1]) + 1})"
    return LABELS.get(name, name)


@dataclass
class Answers:
    """The form's answers as typed (strings), victims as rows in the form's order."""

    values: dict[str, str] = field(default_factory=dict)
    victims: list[dict[str, str]] = field(default_factory=list)

    def hidden_fields(self) -> list[tuple[str, str]]:
        """Every answer as (name, value), for the check-your-answers page's forms."""
        pairs = [(n, self.values.get(n, "")) for n in TOP_FIELDS]
        for index, row in enumerate(self.victims):
            pairs += [(f"victims-{index}-{f}", row.get(f, "")) for f in VICTIM_FIELDS]
        pairs += [(f"reporter-{f}", self.values.get(f"reporter-{f}", "")) for f in REPORTER_FIELDS]
        return pairs


def _blank(row: dict[str, str]) -> bool:
    return not any(v.strip() for v in row.values())


def read_answers(form: dict[str, str]) -> Answers:
    answers = Answers()
    for name in TOP_FIELDS:
        answers.values[name] = form.get(name, "")
    for name in REPORTER_FIELDS:
        answers.values[f"reporter-{name}"] = form.get(f"reporter-{name}", "")
    indexes = sorted(
        {
            int(m[1])
            for key in form
            if (m := re.fullmatch(r"victims-(\d{1,3})-\w+", key)) and int(m[1]) < MAX_VICTIM_ROWS
        }
    )
    rows = [{f: form.get(f"victims-{i}-{f}", "") for f in VICTIM_FIELDS} for i in indexes]
    # Rows left empty are dropped (a row added and not used), but the form keeps at least one.
    answers.victims = [r for r in rows if not _blank(r)] or [dict.fromkeys(VICTIM_FIELDS, "")]
    return answers


def without_victim(form: dict[str, str], raw_index: str) -> dict[str, str]:
    """The form without the victim row whose "remove" button was pressed (the button's value
    is the row's index in the form's field names); every other answer kept as typed."""
    if not raw_index.isdigit():
        return form
    prefix = f"victims-{int(raw_index)}-"
    return {k: v for k, v in form.items() if not k.startswith(prefix)}


def warnings_in_vietnamese(victims: list[dict[str, Any]]) -> list[str]:
    """The report's warnings (contract, Reports: doubtful data, accepted, never blocking),
    from the same rule as the API's ``warnings``, told to a person: which victim, which fields
    disagree and how."""
    told: list[str] = []
    for index, victim in enumerate(victims):
        national_id = victim.get("national_id")
        if not national_id or not isinstance(victim.get("birth_year"), int):
            continue
        for field_name_, _detail in national_id_doubts(
            national_id, gender=victim["gender"], birth_year=victim["birth_year"]
        ):
            who = f"Người bị nạn {index + 1}"
            if field_name_ == "gender":
                coded = "nam" if int(national_id[3]) % 2 == 0 else "nữ"
                told.append(
                    f"{who}: chữ số thứ 4 của số định danh ({national_id[3]}) là của {coded}, "
                    f"khác với giới tính đã khai ({vi.GENDER.get(victim['gender'], '')})."
                )
            else:
                told.append(
                    f"{who}: chữ số thứ 4 đến thứ 6 của số định danh cho năm sinh "
                    f"{coded_birth_year(national_id)}, khác với năm sinh đã khai "
                    f"({victim['birth_year']})."
                )
    return told


def empty_answers() -> Answers:
    return read_answers({"category": "labour_accident"})


@dataclass(frozen=True)
class Conversion:
    body: dict[str, Any]
    #: API index of a victim -> its row in the form.
    victim_rows: list[int]
    errors: dict[str, str]


_DATE = re.compile(r"\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*")
_TIME = re.compile(r"\s*(\d{1,2})[:hH.](\d{2})\s*")


def parse_date(text: str) -> date | None:
    match = _DATE.fullmatch(text)
    if not match:
        return None
    try:
        return date(int(match[3]), int(match[2]), int(match[1]))
    except ValueError:
        return None


def parse_time(text: str) -> time | None:
    match = _TIME.fullmatch(text)
    if not match:
        return None
    try:
        return time(int(match[1]), int(match[2]))
    except ValueError:
        return None


def _optional(text: str) -> str | None:
    return text if text.strip() else None


def to_body(answers: Answers) -> Conversion:
    """The API's request body for these answers, or the errors of the fields that cannot be
    read (a date, a time, a year)."""
    v = answers.values
    errors: dict[str, str] = {}
    on = parse_date(v["occurred_date"])
    at = parse_time(v["occurred_time"])
    if not v["occurred_date"].strip():
        errors["occurred_date"] = "Hãy nhập ngày xảy ra, dạng ngày/tháng/năm, ví dụ 20/11/2026"
    elif on is None:
        errors["occurred_date"] = "Ngày xảy ra phải có dạng ngày/tháng/năm, ví dụ 20/11/2026"
    if not v["occurred_time"].strip():
        errors["occurred_time"] = "Hãy nhập giờ xảy ra, dạng giờ:phút, ví dụ 08:30"
    elif at is None:
        errors["occurred_time"] = "Giờ xảy ra phải có dạng giờ:phút (24 giờ), ví dụ 08:30"
    body: dict[str, Any] = {"category": v["category"] or None}
    if on is not None and at is not None:
        body["occurred_at"] = datetime.combine(on, at).isoformat() + "+07:00"
    if on is not None and on < REFORM_DAY:
        body["district_code"] = _optional(v["district_code"])
        if body["district_code"] is None:
            errors["district_code"] = "Vụ việc trước 01/07/2025: hãy chọn huyện nơi xảy ra"
    else:
        body["commune_code"] = _optional(v["commune_code"])
    for name in ("commune", "initial_cause", "measures_taken", "employer_name"):
        body[name] = _optional(v[name])
    body["address"] = v["address"]
    body["summary"] = v["summary"]
    victims: list[dict[str, Any]] = []
    rows: list[int] = []
    for index, row in enumerate(answers.victims):
        if _blank(row):
            continue
        year: int | str | None = None
        if row["birth_year"].strip():
            if re.fullmatch(r"\s*\d{4}\s*", row["birth_year"]):
                year = int(row["birth_year"])
            else:
                errors[f"victims-{index}-birth_year"] = "Năm sinh phải là 4 chữ số, ví dụ 1990"
                year = 0
        victims.append(
            {
                "full_name": row["full_name"],
                "gender": row["gender"] or None,
                "birth_year": year,
                "occupation": _optional(row["occupation"]),
                "national_id": _optional(row["national_id"]),
                "employment": row["employment"] or None,
                "outcome": row["outcome"] or None,
                "injury": _optional(row["injury"]),
            }
        )
        rows.append(index)
    body["victims"] = victims
    body["reporter"] = {
        "full_name": v["reporter-full_name"],
        "position": _optional(v["reporter-position"]),
        "phone": v["reporter-phone"],
        "email": _optional(v["reporter-email"]),
    }
    return Conversion(body=body, victim_rows=rows, errors=errors)


def field_name(location: tuple[Any, ...] | list[Any], victim_rows: list[int]) -> str:
    """The form's field for a place in the API's body ("/victims/0/outcome" → its row)."""
    parts = [str(p) for p in location]
    if not parts:
        return "summary"
    head = parts[0]
    if head == "victims":
        if len(parts) >= 3 and parts[1].isdigit():
            index = int(parts[1])
            row = victim_rows[index] if index < len(victim_rows) else index
            return f"victims-{row}-{parts[2]}"
        return "victims-0-outcome" if victim_rows else "victims-0-full_name"
    if head == "reporter":
        return f"reporter-{parts[1]}" if len(parts) > 1 else "reporter-full_name"
    if head == "occurred_at":
        return "occurred_date"
    return head


_SPECIFIC = {
    "phone": "Số điện thoại không hợp lệ: số di động hoặc cố định Việt Nam, bắt đầu bằng 0 "
    "hoặc +84, ví dụ 0912345678 hoặc 0262 3852 123",
    "national_id": "Số định danh cá nhân gồm 12 chữ số, 3 số đầu là mã tỉnh nơi đăng ký "
    "khai sinh, ví dụ 066090001234",
    "email": "Địa chỉ thư điện tử không hợp lệ, ví dụ ten@congty.vn",
    "birth_year": "Năm sinh phải là 4 chữ số, không trước 1900",
}


def pydantic_errors(exc: ValidationError, victim_rows: list[int]) -> dict[str, str]:
    errors: dict[str, str] = {}
    for error in exc.errors():
        name = field_name(error["loc"], victim_rows)
        leaf = name.rsplit("-", 1)[-1]
        kind = error["type"]
        what = label(name)
        if kind in ("missing", "string_too_short") or (
            error.get("input") in (None, "") and kind != "too_short"
        ):
            message = f"Hãy nhập {what[0].lower() + what[1:]}"
            if leaf in ("gender", "outcome", "employment", "category"):
                message = f"Hãy chọn {what[0].lower() + what[1:]}"
        elif kind == "string_too_long":
            message = f"{what} quá dài: tối đa {error.get('ctx', {}).get('max_length')} ký tự"
        elif kind in ("literal_error", "enum"):
            message = f"Hãy chọn {what[0].lower() + what[1:]}"
        elif kind == "too_short" and leaf == "victims":
            message = "Tai nạn lao động cần ít nhất một người bị nạn"
        elif leaf in _SPECIFIC:
            message = _SPECIFIC[leaf]
        else:
            message = f"{what} không hợp lệ"
        errors.setdefault(name, message)
    return errors


def service_errors(problems: list[FieldError], victim_rows: list[int]) -> dict[str, str]:
    """The services' rules (English details for systems), told in Vietnamese."""
    errors: dict[str, str] = {}
    for problem in problems:
        pointer = problem.pointer or ""
        location = [p for p in pointer.split("/") if p]
        name = field_name(location, victim_rows)
        detail = problem.detail
        if pointer == "/occurred_at" and "future" in detail:
            message = "Thời điểm xảy ra không được ở tương lai"
        elif pointer == "/occurred_at":
            message = (
                "UBND cấp huyện chỉ báo cáo vụ việc xảy ra trước 01/07/2025; từ ngày đó "
                "UBND cấp xã nơi xảy ra báo cáo"
            )
        elif "committee" in detail and pointer.endswith("_code"):
            message = "UBND chỉ báo cáo vụ việc xảy ra trong địa bàn của mình"
        elif pointer in ("/commune_code", "/district_code"):
            message = (
                "Nơi xảy ra không có trong bản đồ hành chính áp dụng cho ngày xảy ra "
                "(từ 01/07/2025: xã, phường mới; trước đó: huyện)"
            )
        elif pointer.endswith("/birth_year"):
            message = "Năm sinh không được sau năm xảy ra vụ việc"
        elif pointer.endswith("/employment"):
            message = (
                "UBND báo cáo người lao động không có hợp đồng lao động (Luật 84/2015, "
                "Điều 34 khoản 1 điểm d); người có hợp đồng do người sử dụng lao động báo cáo"
            )
        elif pointer == "/victims":
            message = "Tai nạn lao động cần ít nhất một người bị nạn"
        else:
            message = f"{label(name)} không hợp lệ"
        errors.setdefault(name, message)
    return errors


NOT_NOTIFIABLE = (
    "Vụ việc này không thuộc diện khai báo tại đây. Theo Điều 34 Luật An toàn, vệ sinh lao "
    "động (Luật 84/2015/QH13) và Điều 10 Nghị định 39/2016/NĐ-CP, chỉ tai nạn lao động làm "
    "chết người hoặc làm từ hai người trở lên bị thương nặng phải khai báo ngay với cơ quan "
    "quản lý lao động và công an. Tai nạn làm một người bị thương nặng hoặc chỉ bị thương nhẹ "
    "do người sử dụng lao động tự điều tra và ghi sổ theo dõi. Nếu tình trạng người bị nạn "
    "đã nhập chưa đúng, hãy sửa lại."
)


def idempotency_key(user_id: uuid.UUID, body: dict[str, Any]) -> str:
    """The same person confirming the same answers files one report, however often and
    however simultaneously they press: the key is a function of both."""
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "web-" + hashlib.sha256(f"{user_id}\n{canonical}".encode()).hexdigest()


@lru_cache(maxsize=8)
def _communes(on: date) -> tuple[tuple[str, str], ...]:
    data = divisions()
    units = [u for u in data.in_force(on) if u.level == "commune"]
    units.sort(key=lambda u: vi.sort_key(u.name))
    return tuple((u.code, u.name) for u in units)


def commune_choices() -> tuple[tuple[str, str], ...]:
    """Today's communes (map in force today), in Vietnamese order."""
    return _communes(clock.vietnam_time(clock.now()).date())


@lru_cache(maxsize=1)
def district_choices() -> tuple[tuple[str, str], ...]:
    """The districts of map 2024 (accidents before 2025-07-01), with their province."""
    data = divisions()
    units = [u for u in data.in_force(MAP_2024_LAST_DAY) if u.level == "district"]
    units.sort(key=lambda u: vi.sort_key(data.full_name(u)))
    return tuple((u.code, data.full_name(u)) for u in units)
