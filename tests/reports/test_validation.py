"""Every rejection rule of POST /api/v1/reports: status, problem type and JSON pointer."""

from __future__ import annotations

import unicodedata
from datetime import date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.divisions.service import divisions
from tests.assertions import assert_problem, row_counts
from tests.helpers import Org, idem, post_report, report_body, victim


def _without(body: dict[str, Any], path: str) -> dict[str, Any]:
    """``body`` without the field at ``path`` (a JSON pointer)."""
    parts = path.strip("/").split("/")
    target: Any = body
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    del target[parts[-1]]
    return body


def _with(body: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    parts = path.strip("/").split("/")
    target: Any = body
    for part in parts[:-1]:
        target = target[int(part)] if isinstance(target, list) else target[part]
    target[parts[-1]] = value
    return body


# -- required fields ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pointer",
    [
        "/category",
        "/occurred_at",
        "/commune_code",
        "/address",
        "/summary",
        "/reporter",
        "/reporter/full_name",
        "/reporter/phone",
        "/victims/0/full_name",
        "/victims/0/gender",
        "/victims/0/birth_year",
        "/victims/0/outcome",
    ],
)
def test_missing_required_field_is_422_with_its_pointer(
    client: TestClient, enterprise: Org, pointer: str
) -> None:
    response = post_report(client, enterprise, _without(report_body(), pointer))
    assert_problem(response, 422, type_suffix="validation-error", pointer=pointer)


@pytest.mark.parametrize(
    "pointer",
    [
        "/commune",
        "/initial_cause",
        "/measures_taken",
        "/employer_name",
        "/reporter/position",
        "/reporter/email",
        "/victims/0/occupation",
        "/victims/0/national_id",
        "/victims/0/employment",
        "/victims/0/injury",
    ],
)
def test_optional_field_may_be_left_out(client: TestClient, enterprise: Org, pointer: str) -> None:
    response = post_report(client, enterprise, _without(report_body(), pointer))
    assert response.status_code == 201, response.text


def test_optional_field_may_be_null(client: TestClient, enterprise: Org) -> None:
    response = post_report(client, enterprise, report_body(commune=None, employer_name=None))
    assert response.status_code == 201, response.text
    assert response.json()["commune"] is None


def test_labour_accident_without_victims_is_422_at_victims(
    client: TestClient, enterprise: Org
) -> None:
    response = post_report(client, enterprise, _without(report_body(), "/victims"))
    assert_problem(response, 422, type_suffix="validation-error", pointer="/victims")


def test_labour_accident_with_empty_victims_is_422_at_victims(
    client: TestClient, enterprise: Org
) -> None:
    response = post_report(client, enterprise, report_body(victims=[]))
    assert_problem(response, 422, type_suffix="validation-error", pointer="/victims")


@pytest.mark.parametrize(
    ("pointer", "value"),
    [
        ("/category", "fire"),
        ("/victims/0/gender", "other"),
        ("/victims/0/outcome", "injured"),
        ("/victims/0/employment", "freelance"),
    ],
)
def test_value_outside_its_enumeration_is_422(
    client: TestClient, enterprise: Org, pointer: str, value: str
) -> None:
    response = post_report(client, enterprise, _with(report_body(), pointer, value))
    assert_problem(response, 422, type_suffix="validation-error", pointer=pointer)


# -- notifiability -----------------------------------------------------------------------------


def test_one_seriously_injured_with_minor_injuries_is_not_notifiable(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(
        victims=[
            victim(outcome="seriously_injured"),
            victim(outcome="minor_injury"),
            victim(outcome="minor_injury"),
        ]
    )
    response = post_report(client, enterprise, body)
    assert_problem(response, 422, type_suffix="not-notifiable")


def test_only_minor_injuries_are_not_notifiable(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim(outcome="minor_injury")])
    assert_problem(post_report(client, enterprise, body), 422, type_suffix="not-notifiable")


def test_technical_incident_needs_no_victims(client: TestClient, enterprise: Org) -> None:
    body = report_body(category="technical_incident", victims=[])
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["severity"] == "none"


def test_technical_incident_with_a_minor_injury_is_accepted(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(category="technical_incident", victims=[victim(outcome="minor_injury")])
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["severity"] == "minor"


# -- time --------------------------------------------------------------------------------------


def test_occurred_at_more_than_five_minutes_ahead_is_422(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    ahead = (frozen_clock.now() + timedelta(minutes=6)).isoformat()
    response = post_report(client, enterprise, report_body(occurred_at=ahead))
    assert_problem(response, 422, pointer="/occurred_at")


def test_occurred_at_four_minutes_ahead_is_accepted(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    ahead = (frozen_clock.now() + timedelta(minutes=4)).isoformat()
    response = post_report(client, enterprise, report_body(occurred_at=ahead))
    assert response.status_code == 201, response.text


def test_occurred_at_without_offset_is_vietnam_time(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    response = post_report(client, enterprise, report_body(occurred_at="2026-11-20T08:30:00"))
    assert response.status_code == 201, response.text
    assert response.json()["occurred_at"] == "2026-11-20T08:30:00+07:00"


def test_occurred_at_in_utc_is_returned_in_vietnam_time(
    client: TestClient, enterprise: Org, frozen_clock: Any
) -> None:
    response = post_report(client, enterprise, report_body(occurred_at="2026-11-20T01:30:00Z"))
    assert response.status_code == 201, response.text
    assert response.json()["occurred_at"] == "2026-11-20T08:30:00+07:00"


@pytest.mark.parametrize(
    "value", ["yesterday", "2026-11-20", "20/11/2026 08:30", "2026-13-01T00:00:00Z", 1763600000]
)
def test_occurred_at_that_is_not_rfc3339_is_422(
    client: TestClient, enterprise: Org, value: Any
) -> None:
    response = post_report(client, enterprise, report_body(occurred_at=value))
    assert_problem(response, 422, pointer="/occurred_at")


@pytest.mark.parametrize("value", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-12:00"])
def test_occurred_at_at_the_edge_of_the_calendar_is_422_not_500(
    client: TestClient, enterprise: Org, value: str
) -> None:
    response = post_report(client, enterprise, report_body(occurred_at=value))
    assert_problem(response, 422, pointer="/occurred_at")


# -- victims -----------------------------------------------------------------------------------


def test_birth_year_after_the_accident_year_is_422(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim(birth_year=2027)])
    assert_problem(post_report(client, enterprise, body), 422, pointer="/victims/0/birth_year")


def test_birth_year_in_the_accident_year_is_accepted(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim(birth_year=2026)])
    assert post_report(client, enterprise, body).status_code == 201


def test_birth_year_before_1900_is_422(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim(), victim(birth_year=1899)])
    assert_problem(post_report(client, enterprise, body), 422, pointer="/victims/1/birth_year")


def test_birth_year_1900_is_accepted(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim(birth_year=1900)])
    assert post_report(client, enterprise, body).status_code == 201


@pytest.mark.parametrize("value", ["1990", 1990.5, 1990.0, True, None])
def test_birth_year_that_is_not_an_integer_is_422(
    client: TestClient, enterprise: Org, value: Any
) -> None:
    body = report_body(victims=[victim(birth_year=value)])
    assert_problem(post_report(client, enterprise, body), 422, pointer="/victims/0/birth_year")


@pytest.mark.parametrize(
    "value", ["06609000123", "0660900012345", "06609000123a", "066 090 001 234", ""]
)
def test_national_id_not_twelve_digits_is_422(
    client: TestClient, enterprise: Org, value: str
) -> None:
    body = report_body(victims=[victim(national_id=value)])
    assert_problem(post_report(client, enterprise, body), 422, pointer="/victims/0/national_id")


def test_more_than_500_victims_is_422(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim() for _ in range(501)])
    assert_problem(post_report(client, enterprise, body), 422, pointer="/victims")


def test_500_victims_are_accepted(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim() for _ in range(500)])
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["dead_count"] == 500


# -- place (more in test_places.py) ------------------------------------------------------------


@pytest.mark.parametrize("code", ["24118", "643", "66", "066", "Tân Lập", "24121 ", "99999"])
def test_commune_code_not_in_the_2025_map_is_422(
    client: TestClient, enterprise: Org, code: str
) -> None:
    response = post_report(client, enterprise, report_body(commune_code=code))
    assert_problem(response, 422, pointer="/commune_code")


COMMUNES_2025 = sorted(
    u.code for u in divisions().in_force(date(2026, 11, 20)) if u.level == "commune"
)


def test_the_2025_map_has_102_communes() -> None:
    assert len(COMMUNES_2025) == 102


@pytest.mark.parametrize("code", COMMUNES_2025)
def test_every_commune_of_the_2025_map_is_accepted(
    client: TestClient, enterprise: Org, code: str
) -> None:
    response = post_report(client, enterprise, report_body(commune_code=code))
    assert response.status_code == 201, response.text
    assert response.json()["current_commune_codes"] == [code]


# -- phone -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    [
        "0912345678",
        "0262 3812 345",
        "02623812345",
        "+84912345678",
        "+84 262 3812 345",
        "091.234.5678",
        "091-234-5678",
        "(0262) 3812-345",
        "+84 (91) 234 56 78",
    ],
)
def test_vietnamese_phone_is_accepted(client: TestClient, enterprise: Org, phone: str) -> None:
    body = report_body()
    body["reporter"]["phone"] = phone
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["reporter"]["phone"] == phone


@pytest.mark.parametrize(
    "phone",
    [
        "091234567",  # 0 + 8 digits: too short
        "091234567890",  # 0 + 11 digits: too long
        "+8491234567",  # +84 + 8 digits
        "+84262381234567",  # +84 + 12 digits
        "912345678",  # no leading 0 or +84
        "84912345678",  # 84 without +
        "+1 415 555 0100",
        "0912 345 67x",
        "0912/345/678",
        "",
    ],
)
def test_phone_that_is_not_vietnamese_is_422(
    client: TestClient, enterprise: Org, phone: str
) -> None:
    body = report_body()
    body["reporter"]["phone"] = phone
    assert_problem(post_report(client, enterprise, body), 422, pointer="/reporter/phone")


def test_phone_as_a_number_is_422(client: TestClient, enterprise: Org) -> None:
    body = report_body()
    body["reporter"]["phone"] = 912345678
    assert_problem(post_report(client, enterprise, body), 422, pointer="/reporter/phone")


# -- e-mail ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "email", ["b", "b@", "@example.vn", "b@@example.vn", "b example@example.vn", "b@example..vn"]
)
def test_malformed_email_is_422(client: TestClient, enterprise: Org, email: str) -> None:
    body = report_body()
    body["reporter"]["email"] = email
    assert_problem(post_report(client, enterprise, body), 422, pointer="/reporter/email")


def test_vietnamese_email_domain_is_accepted(client: TestClient, enterprise: Org) -> None:
    body = report_body()
    body["reporter"]["email"] = "atvsld@sld.daklak.gov.vn"
    assert post_report(client, enterprise, body).status_code == 201


# -- text --------------------------------------------------------------------------------------

TEXT_FIELDS = [
    "/address",
    "/summary",
    "/commune",
    "/employer_name",
    "/initial_cause",
    "/measures_taken",
    "/reporter/full_name",
    "/reporter/position",
    "/victims/0/full_name",
    "/victims/0/occupation",
    "/victims/0/injury",
]


@pytest.mark.parametrize("pointer", TEXT_FIELDS)
@pytest.mark.parametrize("blank", ["", "   ", "\u3000", " \t "])
def test_empty_or_whitespace_only_text_is_422(
    client: TestClient, enterprise: Org, pointer: str, blank: str
) -> None:
    response = post_report(client, enterprise, _with(report_body(), pointer, blank))
    assert_problem(response, 422, pointer=pointer)


@pytest.mark.parametrize(
    ("pointer", "limit"),
    [
        ("/address", 500),
        ("/summary", 5000),
        ("/initial_cause", 5000),
        ("/measures_taken", 5000),
        ("/victims/0/injury", 5000),
        ("/employer_name", 200),
        ("/reporter/full_name", 200),
        ("/victims/0/full_name", 200),
    ],
)
def test_text_over_its_limit_is_422(
    client: TestClient, enterprise: Org, pointer: str, limit: int
) -> None:
    response = post_report(client, enterprise, _with(report_body(), pointer, "ệ" * (limit + 1)))
    assert_problem(response, 422, pointer=pointer)


@pytest.mark.parametrize(
    ("pointer", "limit"),
    [("/address", 500), ("/summary", 5000), ("/reporter/full_name", 200)],
)
def test_text_at_its_limit_is_accepted(
    client: TestClient, enterprise: Org, pointer: str, limit: int
) -> None:
    # Limits count characters, not bytes: "ệ" is 3 bytes in UTF-8.
    response = post_report(client, enterprise, _with(report_body(), pointer, "ệ" * limit))
    assert response.status_code == 201, response.text


def test_text_limit_counts_characters_after_nfc(client: TestClient, enterprise: Org) -> None:
    # 200 decomposed "ệ" are 600 code points in NFD but 200 characters once normalised.
    name = unicodedata.normalize("NFD", "ệ" * 200)
    body = report_body()
    body["reporter"]["full_name"] = name
    assert post_report(client, enterprise, body).status_code == 201


@pytest.mark.parametrize("pointer", TEXT_FIELDS)
@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_control_character_in_text_is_422(
    client: TestClient, enterprise: Org, pointer: str, control: str
) -> None:
    response = post_report(client, enterprise, _with(report_body(), pointer, f"Nguyễn{control}A"))
    assert_problem(response, 422, pointer=pointer)


@pytest.mark.parametrize("pointer", ["/reporter/full_name", "/victims/0/full_name", "/commune"])
def test_line_break_in_a_name_is_422(client: TestClient, enterprise: Org, pointer: str) -> None:
    response = post_report(client, enterprise, _with(report_body(), pointer, "Nguyễn\nVăn A"))
    assert_problem(response, 422, pointer=pointer)


def test_line_breaks_in_the_summary_are_kept(client: TestClient, enterprise: Org) -> None:
    response = post_report(client, enterprise, report_body(summary="Dòng 1\nDòng 2"))
    assert response.status_code == 201, response.text
    assert response.json()["summary"] == "Dòng 1\nDòng 2"


def test_text_is_stored_nfc_normalised(client: TestClient, enterprise: Org) -> None:
    nfd = unicodedata.normalize("NFD", "Nguyễn Văn Ánh")
    assert nfd != "Nguyễn Văn Ánh"
    body = report_body(address=unicodedata.normalize("NFD", "Phường Tân Lập"))
    body["victims"][0]["full_name"] = nfd
    created = post_report(client, enterprise, body)
    assert created.status_code == 201, created.text

    read = client.get(f"/api/v1/reports/{created.json()['id']}", headers=enterprise.headers)
    assert read.json()["victims"][0]["full_name"] == "Nguyễn Văn Ánh"
    assert read.json()["address"] == "Phường Tân Lập"
    assert unicodedata.is_normalized("NFC", read.text)


def test_text_is_trimmed(client: TestClient, enterprise: Org) -> None:
    body = report_body(address="  12 Lê Duẩn \n", summary="\tSập giàn giáo  ")
    body["reporter"]["full_name"] = "  Trần Thị B  "
    created = post_report(client, enterprise, body).json()
    read = client.get(f"/api/v1/reports/{created['id']}", headers=enterprise.headers).json()
    assert (read["address"], read["summary"]) == ("12 Lê Duẩn", "Sập giàn giáo")
    assert read["reporter"]["full_name"] == "Trần Thị B"


@pytest.mark.parametrize("pointer", ["/address", "/summary", "/reporter/full_name"])
def test_text_that_is_not_a_string_is_422(
    client: TestClient, enterprise: Org, pointer: str
) -> None:
    response = post_report(client, enterprise, _with(report_body(), pointer, 12))
    assert_problem(response, 422, pointer=pointer)


# -- unknown fields ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pointer",
    ["/severity", "/reference", "/received_at", "/reporter/fax", "/victims/0/age"],
)
def test_unknown_field_is_422(client: TestClient, enterprise: Org, pointer: str) -> None:
    response = post_report(client, enterprise, _with(report_body(), pointer, "x"))
    assert_problem(response, 422, pointer=pointer)


# -- commune committee (the conftest's: 24280 Xã Cư M'gar) --------------------------------------


def _committee_body(**overrides: Any) -> dict[str, Any]:
    body = report_body(**{"commune_code": "24280", **overrides})
    del body["victims"][0]["employment"]
    return body


def test_committee_reports_in_its_own_commune(client: TestClient, committee: Org) -> None:
    response = post_report(client, committee, _committee_body())
    assert response.status_code == 201, response.text


def test_committee_reporting_another_commune_is_422(client: TestClient, committee: Org) -> None:
    response = post_report(client, committee, _committee_body(commune_code="24121"))
    assert_problem(response, 422, pointer="/commune_code")


def test_committee_reporting_a_worker_with_a_labour_contract_is_422(
    client: TestClient, committee: Org
) -> None:
    body = _committee_body()
    body["victims"].append(victim(employment="labour_contract"))
    assert_problem(post_report(client, committee, body), 422, pointer="/victims/1/employment")


def test_committee_victims_default_to_no_labour_contract(
    client: TestClient, committee: Org
) -> None:
    created = post_report(client, committee, _committee_body())
    assert created.json()["victims"][0]["employment"] == "no_labour_contract"


def test_enterprise_victims_default_to_labour_contract(client: TestClient, enterprise: Org) -> None:
    body = report_body()
    del body["victims"][0]["employment"]
    created = post_report(client, enterprise, body)
    assert created.json()["victims"][0]["employment"] == "labour_contract"


def test_enterprise_may_report_a_worker_without_a_labour_contract(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(victims=[victim(employment="no_labour_contract")])
    created = post_report(client, enterprise, body)
    assert created.json()["victims"][0]["employment"] == "no_labour_contract"


# -- the body as a whole -----------------------------------------------------------------------


def test_body_over_one_mebibyte_is_413(client: TestClient, enterprise: Org) -> None:
    body = report_body(summary="x" * (1024 * 1024))
    response = post_report(client, enterprise, body)
    assert_problem(response, 413, type_suffix="payload-too-large")


def test_chunked_body_over_one_mebibyte_is_413(client: TestClient, enterprise: Org) -> None:
    def chunks() -> Any:
        yield b'{"summary": "'
        for _ in range(11):
            yield b"x" * 100_000
        yield b'"}'

    response = client.post(
        "/api/v1/reports",
        content=chunks(),
        headers={**enterprise.headers, **idem(), "Content-Type": "application/json"},
    )
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert_problem(response, 413, type_suffix="payload-too-large")


def test_body_just_under_one_mebibyte_is_not_413(client: TestClient, enterprise: Org) -> None:
    # Valid JSON under the limit reaches validation (the summary itself is too long).
    body = report_body(summary="x" * (1024 * 1024 - 2000))
    assert_problem(post_report(client, enterprise, body), 422, pointer="/summary")


@pytest.mark.parametrize(
    "raw",
    [b"{", b'{"category": }', b"not json", b'{"a": 1}{', b"\xff\xfe{}", b"", b'{"a": "\xc3\x28"}'],
)
def test_malformed_json_is_422(client: TestClient, enterprise: Org, raw: bytes) -> None:
    response = client.post(
        "/api/v1/reports",
        content=raw,
        headers={**enterprise.headers, **idem(), "Content-Type": "application/json"},
    )
    assert_problem(response, 422, pointer="")


@pytest.mark.parametrize("raw", [b"[]", b'"report"', b"null", b"42"])
def test_json_that_is_not_an_object_is_422(client: TestClient, enterprise: Org, raw: bytes) -> None:
    response = client.post(
        "/api/v1/reports",
        content=raw,
        headers={**enterprise.headers, **idem(), "Content-Type": "application/json"},
    )
    assert_problem(response, 422)


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
def test_body_that_is_not_json_is_415(
    client: TestClient, enterprise: Org, content_type: str
) -> None:
    response = client.post(
        "/api/v1/reports",
        content=b"category=labour_accident",
        headers={**enterprise.headers, **idem(), "Content-Type": content_type},
    )
    assert_problem(response, 415, type_suffix="unsupported-media-type")


def test_json_with_a_charset_is_accepted(client: TestClient, enterprise: Org) -> None:
    import json

    response = client.post(
        "/api/v1/reports",
        content=json.dumps(report_body()).encode(),
        headers={**enterprise.headers, **idem(), "Content-Type": "application/json; charset=utf-8"},
    )
    assert response.status_code == 201, response.text


def test_several_errors_are_reported_together(client: TestClient, enterprise: Org) -> None:
    body = report_body(commune_code="999", victims=[victim(birth_year=1800, national_id="1")])
    doc = assert_problem(post_report(client, enterprise, body), 422)
    pointers = {e["pointer"] for e in doc["errors"]}
    assert {"/victims/0/birth_year", "/victims/0/national_id"} <= pointers


# -- a rejected request writes nothing ---------------------------------------------------------

REJECTED_BODIES = {
    "missing field": _without(report_body(), "/address"),
    "not notifiable": report_body(victims=[victim(outcome="seriously_injured")]),
    "future": report_body(occurred_at="2099-01-01T00:00:00+07:00"),
    "unknown commune": report_body(commune_code="999"),
    "district after the reform": report_body(district_code="643"),
    "birth year": report_body(victims=[victim(birth_year=2030)]),
    "bad phone": _with(report_body(), "/reporter/phone", "12345"),
    "unknown field": report_body(extra=True),
}


@pytest.mark.parametrize("body", REJECTED_BODIES.values(), ids=REJECTED_BODIES.keys())
def test_rejected_report_writes_nothing(
    client: TestClient, enterprise: Org, body: dict[str, Any]
) -> None:
    before = row_counts()
    response = post_report(client, enterprise, body)
    assert response.status_code == 422, response.text
    assert row_counts() == before


def test_rejected_committee_report_writes_nothing(client: TestClient, committee: Org) -> None:
    before = row_counts()
    response = post_report(client, committee, _committee_body(commune_code="24121"))
    assert response.status_code == 422
    assert row_counts() == before


def test_oversized_report_writes_nothing(client: TestClient, enterprise: Org) -> None:
    before = row_counts()
    response = post_report(client, enterprise, report_body(summary="x" * (1024 * 1024)))
    assert response.status_code == 413
    assert row_counts() == before
