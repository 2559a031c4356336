"""Phone numbers and citizen identity numbers: what is valid, and what is only doubtful.

Phones follow Vietnam's national numbering plan as the ``phonenumbers`` library knows it
(mobiles 0 + 9 digits, fixed lines 0 + area code + number, ``+84`` for the leading 0); spaces,
dots, dashes and parentheses are ignored, and the number is kept as given and in E.164.

A citizen identity number (CCCD) is 12 ASCII digits: a province code of the identity-number plan
(data file ``app/divisions/data/identity_number_provinces.json``, with its sources), one digit
for sex and century, two for the year of birth, six random. A mismatch with the stated gender or
birth year is a warning, never a rejection: an urgent report is not blocked on a doubtful field
(contract, Reports).
"""

from __future__ import annotations

import json
import re
from functools import cache
from importlib import resources

import phonenumbers

_PHONE_SEPARATORS = re.compile(r"[\s.\-()]")
_PHONE_CHARACTERS = re.compile(r"(?:0|\+84)[0-9]+")
_NATIONAL_ID = re.compile(r"[0-9]{12}", re.ASCII)


def phone_e164(value: str) -> str | None:
    """``+84...`` for a valid Vietnamese mobile or fixed-line number, else None."""
    digits = _PHONE_SEPARATORS.sub("", value)
    if not _PHONE_CHARACTERS.fullmatch(digits):
        return None
    try:
        number = phonenumbers.parse(digits, "VN")
    except phonenumbers.NumberParseException:
        return None
    if number.country_code != 84 or not phonenumbers.is_valid_number_for_region(number, "VN"):
        return None
    if phonenumbers.number_type(number) not in (
        phonenumbers.PhoneNumberType.MOBILE,
        phonenumbers.PhoneNumberType.FIXED_LINE,
        phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
    ):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


@cache
def identity_province_codes() -> dict[str, str]:
    source = resources.files("app.divisions").joinpath("data", "identity_number_provinces.json")
    document = json.loads(source.read_text(encoding="utf-8"))
    return {entry["code"]: entry["name"] for entry in document["provinces"]}


def national_id_problem(value: str) -> str | None:
    """Why ``value`` is not a citizen identity number, or None when it is one."""
    if not _NATIONAL_ID.fullmatch(value):
        return "must be a 12-digit citizen identity number (CCCD)"
    if value[:3] not in identity_province_codes():
        return (
            "must begin with a province code of the identity-number plan (001 to 096, "
            f"e.g. 066 Đắk Lắk); {value[:3]} is none"
        )
    return None


#: Digit 4: sex and century (Circular 59/2021/TT-BCA Art. 7).
_CENTURY_START = {0: 1900, 1: 1900, 2: 2000, 3: 2000, 4: 2100, 5: 2100, 6: 2200, 7: 2200}
_CENTURY_START.update({8: 1800, 9: 1800})


def coded_birth_year(national_id: str) -> int:
    """The year of birth a valid identity number encodes (4th digit: century and sex; 5th
    and 6th: the year within the century)."""
    return _CENTURY_START[int(national_id[3])] + int(national_id[4:6])


def national_id_doubts(national_id: str, *, gender: str, birth_year: int) -> list[tuple[str, str]]:
    """``(field, detail)`` for each way a valid identity number disagrees with the victim's
    stated gender or birth year: ``field`` is ``gender`` or ``birth_year``."""
    digit = int(national_id[3])
    coded_gender = "male" if digit % 2 == 0 else "female"
    coded_year = coded_birth_year(national_id)
    doubts: list[tuple[str, str]] = []
    if coded_gender != gender:
        doubts.append(
            (
                "gender",
                f"the identity number's 4th digit ({digit}) is for a "
                f"{'man' if coded_gender == 'male' else 'woman'}, but gender is {gender}",
            )
        )
    if coded_year != birth_year:
        doubts.append(
            (
                "birth_year",
                f"the identity number's 4th to 6th digits give the year of birth {coded_year}, "
                f"but birth_year is {birth_year}",
            )
        )
    return doubts
