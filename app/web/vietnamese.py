"""Vietnamese words and forms: dates, times, deadlines, labels, sort order."""

from __future__ import annotations

import unicodedata
from datetime import date, datetime, timedelta

from app import clock

# The alphabet's 29 letters in order (TCVN 5712 and dictionaries): a ă â b c d đ e ê g h i k l
# m n o ô ơ p q r s t u ư v x y. Tones sort after the letter, in the order ngang, huyền, hỏi,
# ngã, sắc, nặng (the dictionaries' order).
_LETTERS = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_TONES = {"\u0300": 1, "\u0309": 2, "\u0303": 3, "\u0301": 4, "\u0323": 5}
_SHAPE = {"\u0306": "ă", "\u0302": "^", "\u031b": "ư"}


def _letters(text: str) -> tuple[list[tuple[int, str]], list[int]]:
    primary: list[tuple[int, str]] = []
    tones: list[int] = []
    for char in unicodedata.normalize("NFD", text.lower()):
        if char in _TONES:
            if tones:
                tones[-1] = _TONES[char]
            continue
        if char in _SHAPE and primary:
            base = primary[-1][1]
            shaped = {
                ("a", "ă"): "ă",
                ("a", "^"): "â",
                ("e", "^"): "ê",
                ("o", "^"): "ô",
                ("o", "ư"): "ơ",
                ("u", "ư"): "ư",
            }.get((base, _SHAPE[char]))
            if shaped:
                primary[-1] = (_LETTERS.index(shaped), shaped)
            continue
        if unicodedata.combining(char):
            continue
        if char in _LETTERS:
            primary.append((_LETTERS.index(char), char))
        else:
            primary.append((-1 if char == " " else 100 + ord(char), char))
        tones.append(0)
    return primary, tones


def sort_key(text: str) -> tuple[list[int], list[int]]:
    """Vietnamese dictionary order: letters first (đ after d, ư after u...), then tones."""
    primary, tones = _letters(text)
    return [p for p, _ in primary], tones


def vietnam(moment: datetime) -> datetime:
    return clock.vietnam_time(moment)


def ngay(value: date | datetime | None) -> str:
    """dd/mm/yyyy (a moment in Vietnam time)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = vietnam(value)
    return value.strftime("%d/%m/%Y")


def gio(value: datetime | None) -> str:
    """dd/mm/yyyy HH:MM, 24-hour Vietnam time."""
    if value is None:
        return ""
    return vietnam(value).strftime("%d/%m/%Y %H:%M")


def last_day(due_at: datetime | None) -> str:
    """The period's last day, dd/mm/yyyy: ``due_at`` is the end (24:00) of that day."""
    if due_at is None:
        return ""
    return ngay(due_at - timedelta(seconds=1))


def deadline_words(due_at: datetime | None, *, now: datetime, running: bool = True) -> str:
    """ "còn 3 ngày", "đến hạn hôm nay", "quá hạn 2 ngày", "không có thời hạn luật định".

    Days are calendar days in Vietnam time up to the last day of the period (``due_at`` is the
    end, 24:00, of that day)."""
    if due_at is None:
        return "không có thời hạn luật định"
    if not running:
        return "đã kết thúc"
    today = vietnam(now).date()
    last_day = vietnam(due_at - timedelta(seconds=1)).date().toordinal()
    if now >= due_at:
        return f"quá hạn {max(today.toordinal() - last_day, 1)} ngày"
    left = last_day - today.toordinal()
    if left == 0:
        return "hết hạn hôm nay"
    return f"còn {left} ngày"


SEVERITY = {
    "fatal": "Chết người",
    "serious": "Bị thương nặng",
    "minor": "Bị thương nhẹ",
    "none": "Không có người bị nạn",
}
CATEGORY = {
    "labour_accident": "Tai nạn lao động",
    "technical_incident": "Sự cố kỹ thuật gây mất an toàn nghiêm trọng",
}
OUTCOME = {"dead": "Chết", "seriously_injured": "Bị thương nặng", "minor_injury": "Bị thương nhẹ"}
GENDER = {"male": "Nam", "female": "Nữ"}
EMPLOYMENT = {
    "labour_contract": "Có hợp đồng lao động",
    "no_labour_contract": "Không có hợp đồng lao động",
}
STATUS = {
    "open": "Mới mở",
    "in_progress": "Đang điều tra",
    "concluded": "Đã kết luận",
    "closed": "Đã đóng",
}
DELIVERY = {
    "pending": "Đang gửi",
    "delivered": "Đã gửi đến",
    "failed": "Gửi không được",
    "unroutable": "Không có nơi nhận",
}
CHANNEL = {"email": "Thư điện tử", "webhook": "Webhook", None: "—"}
KIND = {
    "enterprise": "Doanh nghiệp",
    "commune_committee": "UBND cấp xã",
    "district_committee": "UBND cấp huyện (trước 01/07/2025)",
    "police": "Công an",
    "inspectorate": "Cơ quan quản lý lao động (Sở Nội vụ)",
    "admin": "Quản trị",
}
