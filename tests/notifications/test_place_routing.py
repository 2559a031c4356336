"""Recipients by the place (contract, Notifications: recipients): commune police of any current
commune, the provincial police, a legacy district police of the report's 2024 district; the
commune committee for technical incidents; TNLD_NOTIFY_POLICE."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import Configure, Org, OrgFactory, post_report, report_body, victim
from tests.notifications.conftest import INSPECTORATE_EMAIL, Mailbox, Receiver, drain

LAST_MINUTE_2024 = "2025-06-30T23:59:00+07:00"


def old_place(**overrides: Any) -> dict[str, Any]:
    return report_body(
        **{"occurred_at": LAST_MINUTE_2024, "district_code": "643", "commune_code": None}
        | overrides
    )


def notified(client: TestClient, org: Org, report: dict[str, Any]) -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/reports/{report['id']}/notifications", headers=org.headers)
    assert response.status_code == 200, response.text
    return list(response.json())


def filed(client: TestClient, org: Org, body: dict[str, Any]) -> dict[str, Any]:
    response = post_report(client, org, body)
    assert response.status_code == 201, response.text
    return dict(response.json())


def recipient_ids(listed: list[dict[str, Any]]) -> set[str | None]:
    return {d["recipient"]["id"] for d in listed}


def test_a_late_report_of_a_2024_accident_reaches_todays_commune_police(
    client: TestClient, orgs: OrgFactory, enterprise: Org, frozen_clock: Any
) -> None:
    """Received in 2026, the accident of 2025-06-30 in the old Phường Tân Lập (24118) goes to
    the police of today's Phường Tân Lập (24121), not to a district police that is gone."""
    tan_lap = orgs.create("police", commune_code="24121", notify_emails=["tl@tnld.test"])
    other = orgs.create("police", commune_code="24133", notify_emails=["bmt@tnld.test"])
    report = filed(client, enterprise, old_place(commune_code="24118"))
    assert report["late"] is True
    ids = recipient_ids(notified(client, enterprise, report))
    assert tan_lap.id in ids
    assert other.id not in ids


def test_a_split_commune_reaches_both_successors_police(
    client: TestClient, orgs: OrgFactory, enterprise: Org
) -> None:
    body = old_place(district_code="657", commune_code="24550")
    successors = filed(client, enterprise, body)["current_commune_codes"]
    assert len(successors) == 2
    police = [
        orgs.create("police", commune_code=code, notify_emails=[f"{code}@tnld.test"])
        for code in successors
    ]
    report = filed(client, enterprise, body)
    assert {p.id for p in police} <= recipient_ids(notified(client, enterprise, report))


def test_the_provincial_police_receives_every_report(
    client: TestClient, orgs: OrgFactory, enterprise: Org
) -> None:
    province = orgs.create("police", province_code="66", notify_emails=["tinh@tnld.test"])
    for body in (report_body(), report_body(commune_code="22015"), old_place(district_code="555")):
        report = filed(client, enterprise, body)
        listed = notified(client, enterprise, report)
        assert province.id in recipient_ids(listed)
        assert not [d for d in listed if d["status"] == "unroutable"]


def test_a_legacy_district_police_receives_its_2024_district_only(
    client: TestClient, orgs: OrgFactory, enterprise: Org
) -> None:
    district = orgs.create("police", district_code="643", notify_emails=["h643@tnld.test"])
    old = filed(client, enterprise, old_place())
    new = filed(client, enterprise, report_body())
    assert district.id in recipient_ids(notified(client, enterprise, old))
    new_listed = notified(client, enterprise, new)
    assert district.id not in recipient_ids(new_listed)
    [unroutable] = [d for d in new_listed if d["status"] == "unroutable"]
    assert unroutable["recipient"] == {
        "id": None,
        "name": "Công an phường Tân Lập",
        "kind": "police",
    }


def test_a_technical_incident_reaches_the_commune_committee(
    client: TestClient, orgs: OrgFactory, enterprise: Org
) -> None:
    committee = orgs.create(
        "commune_committee", commune_code="24121", notify_emails=["ubnd@tnld.test"]
    )
    silent = orgs.create("commune_committee", commune_code="24121")  # no channel
    incident = filed(client, enterprise, report_body(category="technical_incident", victims=[]))
    accident = filed(client, enterprise, report_body())
    ids = recipient_ids(notified(client, enterprise, incident))
    assert committee.id in ids
    assert silent.id not in ids
    assert committee.id not in recipient_ids(notified(client, enterprise, accident))


def test_a_technical_incident_without_a_committee_is_unroutable_for_it(
    client: TestClient, orgs: OrgFactory, enterprise: Org
) -> None:
    orgs.create("police", commune_code="24121", notify_emails=["tl@tnld.test"])
    incident = filed(client, enterprise, report_body(category="technical_incident", victims=[]))
    [unroutable] = [
        d for d in notified(client, enterprise, incident) if d["status"] == "unroutable"
    ]
    assert unroutable["recipient"] == {
        "id": None,
        "name": "UBND phường Tân Lập",
        "kind": "commune_committee",
    }


def test_notify_police_fatal_leaves_out_reports_without_a_death(
    client: TestClient, orgs: OrgFactory, enterprise: Org, configure: Configure
) -> None:
    configure(notify_police="fatal")
    police = orgs.create("police", commune_code="24121", notify_emails=["tl@tnld.test"])
    serious = [victim(outcome="seriously_injured"), victim(outcome="seriously_injured")]
    not_fatal = filed(client, enterprise, report_body(victims=serious))
    fatal = filed(client, enterprise, report_body())
    listed = notified(client, enterprise, not_fatal)
    assert police.id not in recipient_ids(listed)
    assert not [d for d in listed if d["status"] == "unroutable"]
    assert police.id in recipient_ids(notified(client, enterprise, fatal))


def test_notify_police_notifiable_is_the_default(
    client: TestClient, orgs: OrgFactory, enterprise: Org
) -> None:
    police = orgs.create("police", commune_code="24121", notify_emails=["tl@tnld.test"])
    serious = [victim(outcome="seriously_injured"), victim(outcome="seriously_injured")]
    report = filed(client, enterprise, report_body(victims=serious))
    assert police.id in recipient_ids(notified(client, enterprise, report))


def test_a_commune_committee_files_and_its_police_and_the_authority_are_told(
    client: TestClient, orgs: OrgFactory, smtp: Mailbox, receiver: Receiver
) -> None:
    """Done when (issue): a 2026 accident filed by the commune's committee reaches that
    commune's police and the labour authority, naming bodies as registered."""
    committee = orgs.create("commune_committee", commune_code="22015")
    orgs.create("police", commune_code="22015", notify_emails=["ca.tuyhoa@tnld.test"])
    orgs.create("inspectorate", notify_emails=[INSPECTORATE_EMAIL])
    body = report_body(commune_code="22015", victims=[victim(employment="no_labour_contract")])
    report = filed(client, committee, body)
    drain()
    [police_mail] = smtp.to("ca.tuyhoa@tnld.test")
    [authority_mail] = smtp.to(INSPECTORATE_EMAIL)
    for mail in (police_mail, authority_mail):
        assert report["reference"] in mail.message["Subject"]
        assert "tại phường Tuy Hòa, tỉnh Đắk Lắk" in mail.message["Subject"]
        assert "Địa bàn: Phường Tuy Hòa, Tỉnh Đắk Lắk (mã 22015)" in mail.text
        assert "Huyện" not in mail.text
        assert "Thành phố Tuy Hòa" not in mail.text
