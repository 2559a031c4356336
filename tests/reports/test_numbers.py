"""Phone and citizen identity numbers (contract v2, Reports), and the warnings for doubtful
but possible data, which never block a report."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.identity_numbers import identity_province_codes
from app.reports.models import Report
from tests.assertions import assert_problem
from tests.helpers import Org, post_report, report_body, victim

API = "/api/v1"


def _with_phone(phone: str) -> dict[str, Any]:
    body = report_body()
    body["reporter"]["phone"] = phone
    return body


@pytest.mark.parametrize(
    ("phone", "e164"),
    [
        ("0912345678", "+84912345678"),
        ("0262 3852 123", "+842623852123"),
        ("+84 262 3852 123", "+842623852123"),
        ("0257.3823.456", "+842573823456"),
        ("(0262) 3852-123", "+842623852123"),
        ("+84 912 345 678", "+84912345678"),
        ("0352345678", "+84352345678"),
    ],
)
def test_phone_is_kept_as_given_and_stored_in_e164(
    client: TestClient, enterprise: Org, session: Session, phone: str, e164: str
) -> None:
    response = post_report(client, enterprise, _with_phone(phone))
    assert response.status_code == 201, response.text
    assert response.json()["reporter"]["phone"] == phone
    stored = session.scalar(
        select(Report.reporter_phone_e164).where(Report.id == uuid.UUID(response.json()["id"]))
    )
    assert stored == e164


@pytest.mark.parametrize(
    "phone",
    [
        "00000000000",  # no such network or area
        "0123456789",  # 012x mobile prefixes were retired in 2018
        "0262 385 212",  # a landline one digit short
        "1900 1234",  # a service number, neither 0 nor +84 first
        "0800 123 456",  # a free-phone number, not a mobile or fixed line
        "+1 650 253 0000",
    ],
)
def test_phone_outside_the_numbering_plan_is_422(
    client: TestClient, enterprise: Org, phone: str
) -> None:
    assert_problem(
        post_report(client, enterprise, _with_phone(phone)), 422, pointer="/reporter/phone"
    )


def test_amended_phone_is_stored_in_e164(
    client: TestClient, enterprise: Org, session: Session
) -> None:
    report = post_report(client, enterprise).json()
    reporter = {**report["reporter"], "phone": "0262 3852 123"}
    response = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"reporter": reporter},
        headers={**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    stored = session.scalar(
        select(Report.reporter_phone_e164).where(Report.id == uuid.UUID(report["id"]))
    )
    assert stored == "+842623852123"


def test_the_identity_plan_has_the_63_pre_2025_province_codes() -> None:
    codes = identity_province_codes()
    assert len(codes) == 63
    assert codes["001"] == "Hà Nội"
    assert codes["054"] == "Phú Yên"
    assert codes["066"] == "Đắk Lắk"
    assert codes["096"] == "Cà Mau"
    assert min(codes) == "001"
    assert max(codes) == "096"


@pytest.mark.parametrize("national_id", ["001090001234", "054190001234", "096290001234"])
def test_national_id_with_a_province_code_is_accepted(
    client: TestClient, enterprise: Org, national_id: str
) -> None:
    body = report_body(victims=[victim(national_id=national_id, gender="male", birth_year=1990)])
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["victims"][0]["national_id"] == national_id


@pytest.mark.parametrize(
    "national_id",
    [
        "999999999999",
        "000090001234",  # 000 is no province
        "003090001234",  # 003 is unused in the plan
        "097090001234",  # after Cà Mau (096)
        "０６６０９０００１２３４",  # full-width digits: 12 digits, but not ASCII
        "٠٦٦٠٩٠٠٠١٢٣٤",  # Arabic-Indic digits
    ],
)
def test_national_id_outside_the_identity_plan_is_422(
    client: TestClient, enterprise: Org, national_id: str
) -> None:
    body = report_body(victims=[victim(national_id=national_id)])
    assert_problem(post_report(client, enterprise, body), 422, pointer="/victims/0/national_id")


# -- warnings ----------------------------------------------------------------------------------


def test_consistent_data_has_no_warnings(client: TestClient, enterprise: Org) -> None:
    body = report_body(victims=[victim(national_id="066090001234", gender="male", birth_year=1990)])
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == []


def test_a_report_without_identity_numbers_has_empty_warnings(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(victims=[victim(national_id=None)])
    assert post_report(client, enterprise, body).json()["warnings"] == []


def test_sex_digit_disagreeing_with_gender_is_a_warning_not_a_rejection(
    client: TestClient, enterprise: Org
) -> None:
    # 4th digit 0: a man born 1900-1999.
    body = report_body(
        victims=[
            victim(full_name="A", national_id="066090001234", gender="male", birth_year=1990),
            victim(full_name="B", national_id="066090001235", gender="female", birth_year=1990),
        ]
    )
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    (warning,) = response.json()["warnings"]
    assert warning["pointer"] == "/victims/1/national_id"
    assert "gender" in warning["detail"]


def test_birth_year_digits_disagreeing_with_birth_year_are_a_warning(
    client: TestClient, enterprise: Org
) -> None:
    body = report_body(
        victims=[victim(national_id="066185001234", gender="female", birth_year=1986)]
    )
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    (warning,) = response.json()["warnings"]
    assert warning["pointer"] == "/victims/0/national_id"
    assert "1985" in warning["detail"]
    assert "1986" in warning["detail"]


@pytest.mark.parametrize(
    ("national_id", "gender", "birth_year"),
    [
        ("066300001234", "female", 2000),
        ("066205001234", "male", 2005),
        ("066199001234", "female", 1999),
    ],
)
def test_century_digit_is_read_with_the_year(
    client: TestClient, enterprise: Org, national_id: str, gender: str, birth_year: int
) -> None:
    body = report_body(
        victims=[victim(national_id=national_id, gender=gender, birth_year=birth_year)]
    )
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert response.json()["warnings"] == []


def test_century_digit_for_the_wrong_century_is_a_warning(
    client: TestClient, enterprise: Org
) -> None:
    # 4th digit 2: a man born 2000-2099; birth_year 1990.
    body = report_body(victims=[victim(national_id="066290001234", gender="male", birth_year=1990)])
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    assert [w["pointer"] for w in response.json()["warnings"]] == ["/victims/0/national_id"]


def test_a_replayed_filing_returns_the_same_warnings(client: TestClient, enterprise: Org) -> None:
    body = report_body(
        victims=[victim(national_id="066090001234", gender="female", birth_year=1990)]
    )
    headers = {**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())}
    first = client.post(f"{API}/reports", json=body, headers=headers)
    again = client.post(f"{API}/reports", json=body, headers=headers)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert again.json()["warnings"] == first.json()["warnings"] != []


def test_an_amendment_lists_its_warnings(client: TestClient, enterprise: Org) -> None:
    report = post_report(client, enterprise).json()
    victims = [dict(v) for v in report["victims"]]
    victims[0]["birth_year"] = victims[0]["birth_year"] + 1
    response = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"victims": victims},
        headers={**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert [w["pointer"] for w in body["warnings"]] == ["/victims/0/national_id"]
    assert body["report"]["warnings"] == body["warnings"]
