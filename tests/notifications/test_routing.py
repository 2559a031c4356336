"""Who is notified: the police of the report's place and every inspectorate; no police for
the place gives an unroutable delivery and a warning to the inspectorate."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import Org, OrgFactory, post_report, report_body
from tests.notifications.conftest import INSPECTORATE_EMAIL, Mailbox, Receiver, drain


def test_police_of_another_commune_is_not_notified(
    client: TestClient, orgs: OrgFactory, enterprise: Org, smtp: Mailbox, receiver: Receiver
) -> None:
    police_643 = orgs.create("police", commune_code="24121", webhook_url=receiver.url("/643"))
    orgs.create("police", commune_code="24305", webhook_url=receiver.url("/644"))
    orgs.create("inspectorate", notify_emails=[INSPECTORATE_EMAIL])

    report = post_report(client, enterprise).json()
    drain()

    assert [h.path for h in receiver.hooks] == ["/643"]
    listed = client.get(
        f"/api/v1/reports/{report['id']}/notifications", headers=enterprise.headers
    ).json()
    assert sorted(d["recipient"]["kind"] for d in listed) == ["inspectorate", "police"]
    [police] = [d for d in listed if d["recipient"]["kind"] == "police"]
    assert police["recipient"]["id"] == police_643.id


def test_every_inspectorate_is_notified(
    client: TestClient, orgs: OrgFactory, enterprise: Org, receiver: Receiver
) -> None:
    orgs.create("police", commune_code="24121", webhook_url=receiver.url("/police"))
    orgs.create("inspectorate", webhook_url=receiver.url("/a"))
    orgs.create("inspectorate", webhook_url=receiver.url("/b"))

    post_report(client, enterprise)
    drain()

    assert sorted(h.path for h in receiver.hooks) == ["/a", "/b", "/police"]


def test_place_without_police_gives_an_unroutable_delivery(
    client: TestClient, orgs: OrgFactory, enterprise: Org, smtp: Mailbox
) -> None:
    orgs.create("police", commune_code="24121", notify_emails=["congan643@tnld.test"])
    inspectorate = orgs.create("inspectorate", notify_emails=[INSPECTORATE_EMAIL])

    report = post_report(client, enterprise, report_body(commune_code="24184")).json()
    drain()

    listed = client.get(
        f"/api/v1/reports/{report['id']}/notifications", headers=enterprise.headers
    ).json()
    [unroutable] = [d for d in listed if d["status"] == "unroutable"]
    assert unroutable["channel"] is None
    assert unroutable["recipient"] == {
        "id": None,
        "name": "Công an xã Ea H'Leo",
        "kind": "police",
    }
    assert unroutable["attempts"] == 0
    [inspectorate_delivery] = [d for d in listed if d["status"] != "unroutable"]
    assert inspectorate_delivery["recipient"]["id"] == inspectorate.id
    assert inspectorate_delivery["status"] == "delivered"
    assert smtp.to("congan643@tnld.test") == []


def test_inspectorate_is_told_the_police_could_not_be_reached(
    client: TestClient, orgs: OrgFactory, enterprise: Org, smtp: Mailbox
) -> None:
    orgs.create("inspectorate", notify_emails=[INSPECTORATE_EMAIL])

    post_report(client, enterprise, report_body(commune_code="24184"))
    drain()

    [mail] = smtp.to(INSPECTORATE_EMAIL)
    assert (
        "Không thể tự động thông báo cho cơ quan công an nơi xảy ra, tại xã Ea H'Leo, "
        "tỉnh Đắk Lắk" in mail.text
    )
