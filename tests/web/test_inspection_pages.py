"""The labour authority's pages: dashboard, investigation, undelivered notifications,
statistics; the police's view of them."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import update

from app import clock
from app.db import session_factory
from app.notifications.models import Delivery, DeliveryStatus
from app.web.vietnamese import deadline_words
from tests.helpers import Org, file_report, serious_victims
from tests.web.conftest import People, WebUser


def references(html: str) -> list[str]:
    return re.findall(r">(TNLD-\d{4}-\d{6})</a>", html)


def action(user: WebUser, path: str, **fields: str) -> Any:
    page = user.client.get(path).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    version = re.search(r'name="version" value="(\d+)"', page)
    assert token
    assert version
    data = {"csrf_token": token[1], "version": version[1], **fields}
    return user.client.post(path, data=data, follow_redirects=False)


def test_deadline_words() -> None:
    now = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)  # 10:00 in Vietnam
    due = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # 24:00 on 23/11 in Vietnam
    assert deadline_words(due, now=now) == "còn 3 ngày"
    assert deadline_words(due, now=now + timedelta(days=3)) == "hết hạn hôm nay"
    assert deadline_words(due, now=now + timedelta(days=5)) == "quá hạn 2 ngày"
    assert deadline_words(None, now=now) == "không có thời hạn luật định"


def test_the_dashboard_lists_running_investigations_in_the_apis_order(
    client: TestClient,
    people: People,
    enterprise: Org,
    police: Org,
    inspectorate: Org,
    frozen_clock: Any,
) -> None:
    fatal = file_report(client, enterprise)
    serious = file_report(client, enterprise, victims=serious_victims(2))
    no_victims = file_report(client, enterprise, category="technical_incident", victims=[])
    api = client.get("/api/v1/investigations", headers=inspectorate.headers).json()["items"]
    page = people.of(inspectorate).client.get("/dieu-tra")
    assert page.status_code == 200
    assert references(page.text) == [i["reference"] for i in api]
    assert references(page.text).index(serious["reference"]) < references(page.text).index(
        fatal["reference"]
    )  # 20 days before 30
    assert "còn 2" in page.text  # "còn 2x ngày", written out
    if api[-1]["due_at"] is None:  # a report without victims: no statutory period
        assert api[-1]["reference"] == no_victims["reference"]
        assert "không có thời hạn luật định" in page.text


def test_the_dashboard_keeps_its_filters_in_the_url(
    client: TestClient, people: People, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise)
    serious = file_report(client, enterprise, victims=serious_victims(2))
    page = people.of(inspectorate).client.get(
        "/dieu-tra?status=open&severity=serious&commune_code=24121&overdue=false"
    )
    assert references(page.text) == [serious["reference"]]
    assert '<option value="serious" selected>' in page.text
    assert '<option value="24121" selected>' in page.text
    assert 'value="open" checked' in page.text
    assert '<option value="false" selected>' in page.text
    assert 'method="get" action="/dieu-tra"' in page.text


def test_the_police_see_their_areas_investigations_and_no_actions(
    client: TestClient,
    people: People,
    enterprise: Org,
    police: Org,
    inspectorate: Org,
    frozen_clock: Any,
) -> None:
    report = file_report(client, enterprise)
    officer = people.of(police)
    page = officer.client.get("/dieu-tra")
    assert report["reference"] in page.text
    investigation = officer.client.get(f"/dieu-tra/{report['investigation_id']}")
    assert investigation.status_code == 200
    assert "Thao tác" not in investigation.text
    refused = officer.client.post(f"/dieu-tra/{report['investigation_id']}", data={})
    assert refused.status_code == 403


def test_the_inspector_moves_an_investigation_to_in_progress(
    client: TestClient, people: People, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    path = f"/dieu-tra/{report['investigation_id']}"
    inspector = people.of(inspectorate)
    page = inspector.client.get(path)
    assert "Tiếp nhận khai báo" in page.text  # the timeline
    done = action(inspector, path, action="status", status="in_progress")
    assert done.status_code == 303
    api = client.get(
        f"/api/v1/investigations/{report['investigation_id']}", headers=inspectorate.headers
    ).json()
    assert api["status"] == "in_progress"
    assert "trạng thái: Đang điều tra" in inspector.client.get(path).text


def test_a_change_made_by_someone_else_first_is_told_plainly(
    client: TestClient, people: People, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    path = f"/dieu-tra/{report['investigation_id']}"
    inspector = people.of(inspectorate)
    page = inspector.client.get(path).text
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token
    client.patch(
        f"/api/v1/investigations/{report['investigation_id']}",
        json={"lead_inspector": "Phạm Văn D"},
        headers=inspectorate.headers,
    )
    stale = inspector.client.post(
        path,
        data={"csrf_token": token[1], "version": "1", "action": "status", "status": "in_progress"},
    )
    assert stale.status_code == 409
    assert "người khác thay đổi trước bạn" in stale.text
    assert "Phạm Văn D" in stale.text


def test_concluding_needs_a_conclusion_and_an_extension_needs_a_reason(
    client: TestClient, people: People, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    path = f"/dieu-tra/{report['investigation_id']}"
    inspector = people.of(inspectorate)
    assert action(inspector, path, action="status", status="in_progress").status_code == 303
    refused = action(inspector, path, action="status", status="concluded")
    assert refused.status_code == 422
    assert 'href="#conclusion"' in refused.text
    no_reason = action(inspector, path, action="extend", reason="", approved_by="")
    assert no_reason.status_code == 422
    assert 'href="#reason"' in no_reason.text
    assert 'href="#approved_by"' in no_reason.text
    extended = action(
        inspector, path, action="extend", reason="Chờ giám định", approved_by="Giám đốc Sở"
    )
    assert extended.status_code == 303
    assert "Gia hạn điều tra đến hết ngày" in inspector.client.get(path).text
    lead = action(inspector, path, action="lead_inspector", lead_inspector="Phạm Văn D")
    assert lead.status_code == 303
    concluded = action(
        inspector, path, action="conclusion", findings="Giàn giáo", conclusion="Lỗi neo giữ"
    )
    assert concluded.status_code == 303
    assert action(inspector, path, action="status", status="concluded").status_code == 303
    assert "Đã kết luận" in inspector.client.get(path).text


def test_undelivered_notifications_can_be_sent_again(
    client: TestClient, people: People, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    report = file_report(client, enterprise)
    with session_factory()() as session:
        session.execute(
            update(Delivery)
            .where(
                Delivery.report_id == uuid.UUID(report["id"]),
                Delivery.recipient_id == uuid.UUID(inspectorate.id),
            )
            .values(status=DeliveryStatus.failed, attempts=9, last_error="timeout")
        )
        session.commit()
    inspector = people.of(inspectorate)
    page = inspector.client.get("/thong-bao-loi")
    assert report["reference"] in page.text
    assert "Gửi lại" in page.text
    form_action = re.search(r'action="(/thong-bao-loi/[^"]+/gui-lai)"', page.text)
    assert form_action
    token = inspector.csrf("/thong-bao-loi")
    done = inspector.client.post(form_action[1], data={"csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303
    assert "Gửi lại" not in inspector.client.get("/thong-bao-loi").text


def test_statistics_as_a_table_an_svg_chart_and_csv(
    client: TestClient, people: People, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise)
    inspector = people.of(inspectorate)
    page = inspector.client.get("/thong-ke?year=2026")
    assert page.status_code == 200
    assert "<svg" in page.text
    assert "Phường Tân Lập" in page.text
    link = re.search(r'href="(/thong-ke\.csv\?[^"]+)"', page.text)
    assert link
    csv = inspector.client.get(link[1].replace("&amp;", "&"))
    assert csv.status_code == 200
    assert csv.headers["content-type"].startswith("text/csv")
    assert "24121" in csv.text


def test_the_page_shows_the_same_figures_and_when_they_were_read(
    client: TestClient, people: People, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    file_report(client, enterprise)
    api = client.get("/api/v1/stats?year=2026", headers=inspectorate.headers).json()
    clock.advance(timedelta(seconds=30))
    page = people.of(inspectorate).client.get("/thong-ke?year=2026")
    assert page.status_code == 200
    assert f"<td>{api['total']['reports']}</td>" in page.text
    assert api["as_of"] == "2026-11-20T10:00:00+07:00"
    assert "Số liệu tính lúc 20/11/2026 10:00" in page.text
    # The province's figures are kept at write time: current at every read, never a minute old.
    assert "tối đa 1 phút" not in page.text
