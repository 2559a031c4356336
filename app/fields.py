"""Validated field types shared by request schemas.

Text is stored NFC-normalised and trimmed, and control characters are rejected (contract,
General). Multi-line free text may keep line breaks and tabs; names and codes may not.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime
from typing import Annotated, Any

from email_validator import EmailNotValidError, validate_email
from pydantic import AfterValidator, BeforeValidator, Field, PlainSerializer

from app.clock import VIETNAM_TZ
from app.identity_numbers import national_id_problem, phone_e164

# Unicode category Cc (C0, DEL, C1), as character classes: these run on every text field of
# every request, and a regex scans in C where a per-character check would loop in Python.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
#: Cc except tab, line feed and carriage return.
_CONTROL_BUT_LINE_BREAKS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: Category Cs: a lone surrogate (JSON "\\ud800") cannot be stored or sent as UTF-8.
_SURROGATE = re.compile("[\ud800-\udfff]")
#: What a one-line field (a name, a label) may not hide (Security and privacy: bad input):
#: format characters (Cf: zero-width, bidi controls, soft hyphen; Unicode 14, checked against
#: unicodedata in tests), line and paragraph separators (Zl, Zp), private use (Co) and
#: noncharacters. A name that looks like another, or splits a line in a log, is refused.
_INVISIBLE = re.compile(
    "["
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U00013438\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001"
    "\U000e0020-\U000e007f"  # Cf
    "\u2028\u2029"  # Zl, Zp
    "\ue000-\uf8ff\U000f0000-\U000ffffd\U00100000-\U0010fffd"  # Co
    "\ufdd0-\ufdef\ufffe\uffff\U0001fffe\U0001ffff\U0002fffe\U0002ffff\U0003fffe"
    "\U0003ffff\U0004fffe\U0004ffff\U0005fffe\U0005ffff\U0006fffe\U0006ffff\U0007fffe"
    "\U0007ffff\U0008fffe\U0008ffff\U0009fffe\U0009ffff\U000afffe\U000affff\U000bfffe"
    "\U000bffff\U000cfffe\U000cffff\U000dfffe\U000dffff\U000efffe\U000effff\U000ffffe"
    "\U000fffff\U0010fffe\U0010ffff"  # noncharacters
    "]"
)
#: Bidirectional embeddings, overrides and isolates: text that displays in another order
#: than it is stored (free text may hold other scripts, but not these).
_BIDI_CONTROL = re.compile("[\u202a-\u202e\u2066-\u2069]")


def _text(max_length: int, *, multiline: bool) -> Any:
    control = _CONTROL_BUT_LINE_BREAKS if multiline else _CONTROL

    def clean(value: str) -> str:
        value = unicodedata.normalize("NFC", value).strip()
        if control.search(value):
            raise ValueError("must not contain control characters")
        if _SURROGATE.search(value):
            raise ValueError("must not contain unpaired surrogates")
        if multiline:
            if _BIDI_CONTROL.search(value):
                raise ValueError("must not contain bidirectional override characters")
        elif _INVISIBLE.search(value):
            raise ValueError(
                "must not contain invisible or format characters, line separators, "
                "private-use characters or noncharacters"
            )
        elif value and all(unicodedata.category(ch).startswith("M") for ch in value):
            raise ValueError("must not consist of combining marks alone")
        if not value:
            raise ValueError("must not be empty")
        if len(value) > max_length:
            raise ValueError(f"must be at most {max_length} characters")
        return value

    return AfterValidator(clean)


StrictStr = Annotated[str, Field(strict=True)]
Name = Annotated[StrictStr, _text(200, multiline=False)]
ShortText = Annotated[StrictStr, _text(200, multiline=False)]
Address = Annotated[StrictStr, _text(500, multiline=True)]
LongText = Annotated[StrictStr, _text(5000, multiline=True)]
Label = Annotated[StrictStr, _text(200, multiline=False)]
StrictInt = Annotated[int, Field(strict=True)]
#: A GSO code of a province, district or commune; whether it is a place, and on which date, is
#: checked against app.divisions.
PlaceCode = Annotated[StrictStr, Field(min_length=1, max_length=16)]


def _phone(value: str) -> str:
    if phone_e164(value) is None:
        raise ValueError(
            "must be a Vietnamese mobile or fixed-line number under the national numbering "
            "plan: 0 or +84 first, e.g. 0912345678 or 0262 3852 123"
        )
    return value


#: Kept as given (the reporter's own writing); its E.164 form is stored beside it.
Phone = Annotated[StrictStr, _text(30, multiline=False), AfterValidator(_phone)]


def _national_id(value: str) -> str:
    problem = national_id_problem(value)
    if problem is not None:
        raise ValueError(problem)
    return value


NationalId = Annotated[StrictStr, _text(12, multiline=False), AfterValidator(_national_id)]


def _tax_code(value: str) -> str:
    if not re.fullmatch(r"[0-9]{10}(-[0-9]{3})?", value):
        raise ValueError("must be a tax code of 10 digits, or 10 digits, '-' and 3 digits")
    return value


TaxCode = Annotated[StrictStr, _text(14, multiline=False), AfterValidator(_tax_code)]


def _email(value: str) -> str:
    try:
        # Internal and test mail domains (e.g. *.test) are real for provincial networks and tests.
        result = validate_email(
            value, check_deliverability=False, globally_deliverable=False, test_environment=True
        )
    except EmailNotValidError as exc:
        raise ValueError(f"must be a valid e-mail address ({exc})") from None
    return result.normalized


Email = Annotated[StrictStr, _text(254, multiline=False), AfterValidator(_email)]


def _rfc3339(value: Any) -> Any:
    """Accept RFC 3339 strings only; a time without an offset is Vietnam time (contract)."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str) and re.fullmatch(
        r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:\d{2})?", value
    ):
        text = value
        fraction = re.search(r"\.(\d+)", text)
        if fraction and len(fraction[1]) > 6:  # Python parses at most microseconds
            text = text.replace(fraction[0], "." + fraction[1][:6])
        try:
            parsed = datetime.fromisoformat(text.replace("z", "Z"))
        except ValueError:
            raise ValueError("must be a valid RFC 3339 date-time") from None
    else:
        raise ValueError("must be an RFC 3339 date-time, e.g. 2026-11-20T08:30:00+07:00")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=VIETNAM_TZ)
    try:
        # Stored in UTC and judged in Vietnam time: both must exist (year 1..9999).
        parsed.astimezone(UTC)
        parsed.astimezone(VIETNAM_TZ)
    except OverflowError:
        raise ValueError("is outside the supported range of dates") from None
    return parsed


def _vietnam_iso(value: datetime) -> str:
    return value.astimezone(VIETNAM_TZ).isoformat()


#: An input date-time: RFC 3339, offset optional (Vietnam time when absent).
InputTimestamp = Annotated[
    datetime,
    BeforeValidator(_rfc3339),
    Field(json_schema_extra={"format": "date-time", "type": "string"}),
]
#: An output date-time, always with an offset (rendered in Vietnam time, +07:00).
Timestamp = Annotated[datetime, PlainSerializer(_vietnam_iso, return_type=str, when_used="json")]


def not_nullable(schema: dict[str, Any]) -> None:
    """OpenAPI for a field that may be absent but not null (``X | None`` in Python, where
    ``None`` means absent and an explicit null is refused by a validator)."""
    options = [s for s in schema.pop("anyOf", []) if s.get("type") != "null"]
    if len(options) == 1:
        schema.update(options[0])
    schema.pop("default", None)


def refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("must not be null")
    return value
