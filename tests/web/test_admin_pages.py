"""The administrator's pages: organisations, people, keys."""

from __future__ import annotations

import re

from tests.helpers import Org, OrgFactory
from tests.web.conftest import People, log_in


def test_an_admin_creates_an_organisation_a_person_and_a_key(
    people: People, orgs: OrgFactory, anonymous: object
) -> None:
    admin = people.of(orgs.admin)
    token = admin.csrf("/quan-tri")
    created = admin.client.post(
        "/quan-tri",
        data={
            "csrf_token": token,
            "name": "Công an xã Ea Kao",
            "kind": "police",
            "commune_code": "24280",
            "notify_emails": "ca@tnld.test",
        },
        follow_redirects=False,
    )
    assert created.status_code == 303
    page_path = created.headers["location"]
    token = admin.csrf(page_path)
    person = admin.client.post(
        f"{page_path}/nguoi-dung",
        data={"csrf_token": token, "email": "truc@tnld.test", "full_name": "Đỗ Văn Trực"},
    )
    assert person.status_code == 200
    password = re.search(r"chỉ hiện một lần\): (\S+)</p>", person.text)
    assert password
    assert log_in(admin.client.__class__(admin.client.app), "truc@tnld.test", password[1]) == 303
    key = admin.client.post(f"{page_path}/khoa", data={"csrf_token": token, "label": "hệ thống"})
    raw = re.search(r"(tnld_[A-Za-z0-9_-]+)</p>", key.text)
    assert raw
    assert (
        admin.client.get(
            "/api/v1/reports", headers={"Authorization": f"Bearer {raw[1]}"}
        ).status_code
        == 200
    )
    revoke = re.search(r'action="(/quan-tri/khoa/[^"]+/thu-hoi)"', key.text)
    assert revoke
    organisation_id = page_path.rsplit("/", 1)[1]
    done = admin.client.post(
        revoke[1],
        data={"csrf_token": token, "organisation_id": organisation_id},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert (
        admin.client.get(
            "/api/v1/reports", headers={"Authorization": f"Bearer {raw[1]}"}
        ).status_code
        == 401
    )


def test_an_invalid_organisation_comes_back_with_its_errors(
    people: People, orgs: OrgFactory
) -> None:
    admin = people.of(orgs.admin)
    token = admin.csrf("/quan-tri")
    page = admin.client.post(
        "/quan-tri", data={"csrf_token": token, "name": "Công an", "kind": "police"}
    )
    assert page.status_code == 422
    assert "error-summary" in page.text


def test_the_admins_start_page_is_the_organisations(
    people: People, orgs: OrgFactory, enterprise: Org
) -> None:
    admin = people.of(orgs.admin)
    home = admin.client.get("/", follow_redirects=False)
    assert home.status_code == 303
    assert enterprise.name in admin.client.get("/quan-tri").text
