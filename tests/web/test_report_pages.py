"""A report's page, its receipt, the police's acknowledgement, the follow-up; roles and scope."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest

from tests.helpers import Org, OrgFactory
from tests.web.conftest import People, WebUser
from tests.web.support import answers


def file_through_the_form(user: WebUser, **changes: str) -> str:
    token = user.csrf("/bao-cao/moi")
    done = user.client.post(
        "/bao-cao/moi",
        data={**answers(**changes), "csrf_token": token, "confirm": "1"},
        follow_redirects=False,
    )
    assert done.status_code == 303, done.text
    return str(done.headers["location"])


@pytest.fixture
def filed(
    people: People, enterprise: Org, police: Org, inspectorate: Org, frozen_clock: Any
) -> str:
    return file_through_the_form(people.of(enterprise))


def test_the_report_page_shows_reference_recipients_and_status(
    people: People, enterprise: Org, police: Org, filed: str
) -> None:
    page = people.of(enterprise).client.get(filed)
    assert page.status_code == 200
    assert "TNLD-2026-000001" in page.text
    assert police.name in page.text
    assert "Đang gửi" in page.text  # no worker in tests: pending
    assert "Xác nhận đã nhận" not in page.text  # the filer is no recipient
    assert f'href="{filed}/bien-nhan.pdf"' in page.text


def test_the_receipt_is_a_pdf_with_the_reference(
    people: People, enterprise: Org, filed: str
) -> None:
    receipt = people.of(enterprise).client.get(f"{filed}/bien-nhan.pdf")
    assert receipt.status_code == 200
    assert receipt.headers["content-type"] == "application/pdf"
    assert receipt.content.startswith(b"%PDF-")
    assert b"TNLD-2026-000001" in receipt.content
    assert b"NotoSans" in receipt.content  # Vietnamese text in the bundled font
    assert b"Nguy" not in receipt.content  # no victim's name


def test_the_police_acknowledge_with_one_button(people: People, police: Org, filed: str) -> None:
    officer = people.of(police)
    page = officer.client.get(filed)
    assert "Xác nhận đã nhận" in page.text
    token = officer.csrf(filed)
    done = officer.client.post(
        f"{filed}/xac-nhan", data={"csrf_token": token}, follow_redirects=False
    )
    assert done.status_code == 303
    report_id = filed.removeprefix("/bao-cao/")
    deliveries = officer.client.get(
        f"/api/v1/reports/{report_id}/notifications", headers=police.headers
    ).json()
    mine = [d for d in deliveries if d["recipient"]["id"] == police.id]
    assert mine
    assert all(d["acknowledged_at"] for d in mine)
    assert "đã xác nhận đã nhận" in officer.client.get(filed).text


def test_acknowledging_without_the_token_is_refused(
    people: People, police: Org, filed: str
) -> None:
    officer = people.of(police)
    assert officer.client.post(f"{filed}/xac-nhan", data={}).status_code == 403


def test_an_organisation_without_a_notification_cannot_acknowledge(
    people: People, enterprise: Org, filed: str
) -> None:
    user = people.of(enterprise)
    token = user.csrf(filed)
    assert user.client.post(f"{filed}/xac-nhan", data={"csrf_token": token}).status_code == 404


def test_a_follow_up_records_that_a_victim_died_in_hospital(
    people: People, enterprise: Org, police: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    location = file_through_the_form(
        user,
        victims__0__outcome="seriously_injured",
        **{
            "victims-1-full_name": "Lê Văn C",
            "victims-1-gender": "male",
            "victims-1-birth_year": "1985",
            "victims-1-outcome": "seriously_injured",
        },
    )
    form = user.client.get(f"{location}/bo-sung")
    assert form.status_code == 200
    token = user.csrf(f"{location}/bo-sung")
    done = user.client.post(
        f"{location}/bo-sung",
        data={
            "csrf_token": token,
            "victims-0-outcome": "dead",
            "victims-1-outcome": "seriously_injured",
            "note": "Nạn nhân tử vong tại bệnh viện",
        },
        follow_redirects=False,
    )
    assert done.status_code == 303
    report_id = location.removeprefix("/bao-cao/")
    body = user.client.get(f"/api/v1/reports/{report_id}", headers=enterprise.headers).json()
    assert body["severity"] == "fatal"
    assert body["version"] == 2
    assert "Lần 1" in user.client.get(location).text


def test_the_reporters_list_shows_their_reports_newest_first(
    people: People, enterprise: Org, filed: str, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    frozen_clock.advance(timedelta(minutes=1))
    second = file_through_the_form(user, occurred_date="19/11/2026")
    page = user.client.get("/bao-cao").text
    assert page.index(second) < page.index(filed)


@pytest.mark.parametrize(
    ("kind", "path"),
    [
        ("police", "/bao-cao/moi"),
        ("inspectorate", "/bao-cao/moi"),
        ("admin", "/bao-cao/moi"),
        ("enterprise", "/dieu-tra"),
        ("commune_committee", "/dieu-tra"),
        ("enterprise", "/thong-ke"),
        ("enterprise", "/thong-bao-loi"),
        ("police", "/thong-bao-loi"),
        ("enterprise", "/quan-tri"),
        ("inspectorate", "/quan-tri"),
        ("admin", "/bao-cao"),
    ],
)
def test_a_page_outside_the_role_is_403(
    people: People, orgs: OrgFactory, kind: str, path: str
) -> None:
    areas: dict[str, dict[str, Any]] = {
        "enterprise": {"tax_code": "6000123499"},
        "commune_committee": {"commune_code": "24280"},
        "police": {"commune_code": "24121", "notify_emails": ["p@tnld.test"]},
        "inspectorate": {"notify_emails": ["i@tnld.test"]},
    }
    fields = areas.get(kind, {})
    org = orgs.admin if kind == "admin" else orgs.create(kind, **fields)
    response = people.of(org).client.get(path, follow_redirects=False)
    assert response.status_code == 403
    assert "Không có quyền" in response.text


def test_a_report_outside_the_scope_is_404(people: People, orgs: OrgFactory, filed: str) -> None:
    other_enterprise = orgs.create("enterprise", tax_code="6000999999")
    other_police = orgs.create("police", commune_code="24280", notify_emails=["x@tnld.test"])
    for org in (other_enterprise, other_police):
        client = people.of(org).client
        assert client.get(filed).status_code == 404
        assert client.get(f"{filed}/bien-nhan.pdf").status_code == 404
    client = people.of(other_enterprise).client
    assert client.get(f"{filed}/bo-sung").status_code == 404
    assert client.get(f"/bao-cao/{uuid.uuid4()}").status_code == 404
    assert client.get("/bao-cao/not-an-id").status_code == 404


def test_the_receipt_follows_the_acknowledgements(
    people: People, enterprise: Org, police: Org, filed: str
) -> None:
    reporter = people.of(enterprise)
    before = reporter.client.get(f"{filed}/bien-nhan.pdf").content
    assert reporter.client.get(f"{filed}/bien-nhan.pdf").content == before
    officer = people.of(police)
    token = officer.csrf(filed)
    officer.client.post(f"{filed}/xac-nhan", data={"csrf_token": token})
    assert reporter.client.get(f"{filed}/bien-nhan.pdf").content != before


def test_a_forged_cursor_is_told_in_vietnamese(people: People, enterprise: Org) -> None:
    page = people.of(enterprise).client.get("/bao-cao?cursor=gia-mao")
    assert page.status_code == 422
    assert "Liên kết không hợp lệ" in page.text
    assert page.headers["content-type"].startswith("text/html")
