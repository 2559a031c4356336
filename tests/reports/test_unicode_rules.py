"""Names and other one-line fields refuse invisible and format characters (Cf), line and
paragraph separators (Zl, Zp), private use, noncharacters and strings of combining marks
alone; free text refuses bidirectional overrides (Security and privacy: bad input)."""

from __future__ import annotations

import sys
import unicodedata

import pytest
from fastapi.testclient import TestClient

from app.fields import _INVISIBLE
from tests.assertions import assert_problem
from tests.helpers import Org, idem, report_body, victim

ONE_LINE = {
    "zero-width space": "Nguyễn\u200bVăn A",
    "zero-width joiner": "Nguyễn\u200dVăn A",
    "right-to-left override": "Nguyễn \u202eA nă V",
    "byte order mark": "\ufeffNguyễn Văn A",
    "soft hyphen": "Nguy\u00adễn",
    "line separator": "Nguyễn\u2028Văn A",
    "paragraph separator": "Nguyễn\u2029Văn A",
    "private use": "Nguyễn \ue000",
    "noncharacter": "Nguyễn \ufdd0",
    "plane-16 private use": "Nguyễn \U00100000",
    "combining marks alone": "\u0301\u0300\u0303",
    "tag characters": "A\U000e0041",
}


@pytest.mark.parametrize("value", ONE_LINE.values(), ids=ONE_LINE.keys())
@pytest.mark.parametrize(
    ("where", "pointer"), [("victim", "/victims/0/full_name"), ("reporter", "/reporter/full_name")]
)
def test_one_line_fields_refuse_hidden_characters(
    client: TestClient, enterprise: Org, value: str, where: str, pointer: str
) -> None:
    body = report_body()
    if where == "victim":
        body["victims"] = [victim(full_name=value)]
    else:
        body["reporter"]["full_name"] = value
    response = client.post("/api/v1/reports", json=body, headers={**enterprise.headers, **idem()})
    assert_problem(response, 422, pointer=pointer)


@pytest.mark.parametrize(
    "override", ["\u202a", "\u202b", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
)
def test_free_text_refuses_bidirectional_overrides(
    client: TestClient, enterprise: Org, override: str
) -> None:
    body = report_body(summary=f"Sập giàn giáo {override}tầng 4")
    response = client.post("/api/v1/reports", json=body, headers={**enterprise.headers, **idem()})
    assert_problem(response, 422, pointer="/summary")


def test_vietnamese_names_and_free_text_in_other_scripts_pass(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(
        summary="Sập giàn giáo tầng 4.\nNhân chứng: Lê Thị Ánh; ghi chú: مرحبا, 中文, Ê-đê.",
        victims=[victim(full_name="Y Bhăm Ê-ban"), victim(full_name="Nguyễn Thị Ngọc Ánh")],
    )
    response = client.post("/api/v1/reports", json=body, headers={**enterprise.headers, **idem()})
    assert response.status_code == 201, response.text


def test_the_hidden_character_class_covers_this_pythons_unicode_data() -> None:
    for code in range(sys.maxunicode + 1):
        char = chr(code)
        category = unicodedata.category(char)
        hidden = category in ("Cf", "Zl", "Zp", "Co") or (
            0xFDD0 <= code <= 0xFDEF or code & 0xFFFE == 0xFFFE
        )
        if hidden:
            assert _INVISIBLE.match(char), f"U+{code:04X} ({category})"
