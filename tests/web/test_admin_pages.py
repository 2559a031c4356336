"""The administrator's pages: organisations, people, keys."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.helpers import Org, OrgFactory
from tests.web.conftest import People, WebUser, log_in


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


def organisation_path(admin: WebUser, org: Org) -> str:
    return f"/quan-tri/to-chuc/{org.id}"


def post_edit(
    admin: WebUser, path: str, token: str, *, name: str, notify_emails: str, webhook_url: str
) -> Any:
    """The organisation's edit form as the admin submits it (no redirect followed)."""
    return admin.client.post(
        f"{path}/sua",
        data={
            "csrf_token": token,
            "edit-name": name,
            "edit-notify_emails": notify_emails,
            "edit-webhook_url": webhook_url,
        },
        follow_redirects=False,
    )


def test_an_admin_edits_an_organisations_name_and_channels_as_the_api_would(
    people: People, orgs: OrgFactory, police: Org
) -> None:
    admin = people.of(orgs.admin)
    path = organisation_path(admin, police)
    page = admin.client.get(path)
    assert 'value="police643@tnld.test"' in page.text  # the form starts from what is stored
    token = admin.csrf(path)
    saved = post_edit(
        admin,
        path,
        token,
        name="Công an phường Tân Lập (trực ban)",
        notify_emails="trucban@tnld.test, police643@tnld.test",
        webhook_url="",
    )
    assert saved.status_code == 303
    shown = admin.client.get(saved.headers["location"])
    assert "Đã lưu thay đổi" in shown.text
    api = admin.client.get(f"/api/v1/organisations/{police.id}", headers=orgs.admin.headers)
    assert api.json()["name"] == "Công an phường Tân Lập (trực ban)"
    assert api.json()["notify_emails"] == ["trucban@tnld.test", "police643@tnld.test"]


def test_an_edit_the_service_refuses_comes_back_with_the_input_and_its_errors(
    people: People, orgs: OrgFactory, police: Org
) -> None:
    admin = people.of(orgs.admin)
    path = organisation_path(admin, police)
    token = admin.csrf(path)
    # The police need a channel (contract, Organisations).
    refused = post_edit(admin, path, token, name="Công an mới", notify_emails="", webhook_url="")
    assert refused.status_code == 422
    summary = refused.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    assert 'href="#edit-notify_emails"' in summary
    assert "cần ít nhất một kênh nhận thông báo" in refused.text
    assert 'value="Công an mới"' in refused.text
    bad_url = post_edit(
        admin,
        path,
        token,
        name="Công an mới",
        notify_emails="police643@tnld.test",
        webhook_url="http://10.0.0.5/hook",
    )
    assert bad_url.status_code == 422
    assert 'href="#edit-webhook_url"' in bad_url.text
    api = admin.client.get(f"/api/v1/organisations/{police.id}", headers=orgs.admin.headers)
    assert api.json()["name"] != "Công an mới"  # nothing written


def test_a_webhook_set_by_an_edit_shows_its_secret_once_and_rotation_shows_a_new_one(
    people: People, orgs: OrgFactory, police: Org
) -> None:
    admin = people.of(orgs.admin)
    path = organisation_path(admin, police)
    token = admin.csrf(path)
    page = post_edit(
        admin,
        path,
        token,
        name=police.name,
        notify_emails="police643@tnld.test",
        webhook_url="http://127.0.0.1:9/hook",
    )
    assert page.status_code == 200
    first = re.search(r"Khóa ký webhook \(chỉ hiện một lần\): (whsec_\S+)</p>", page.text)
    assert first
    again = admin.client.get(path)
    assert first[1] not in again.text  # shown once
    assert "Tạo khóa ký webhook mới" in again.text
    rotated = admin.client.post(f"{path}/khoa-webhook", data={"csrf_token": token})
    assert rotated.status_code == 200
    second = re.search(r"Khóa ký webhook mới \(chỉ hiện một lần\): (whsec_\S+)</p>", rotated.text)
    assert second
    assert second[1] != first[1]
    assert second[1] not in admin.client.get(path).text


def test_a_new_organisation_with_a_webhook_shows_its_secret_once(
    people: People, orgs: OrgFactory
) -> None:
    admin = people.of(orgs.admin)
    token = admin.csrf("/quan-tri")
    created = admin.client.post(
        "/quan-tri",
        data={
            "csrf_token": token,
            "name": "Sở Nội vụ (hệ thống)",
            "kind": "inspectorate",
            "webhook_url": "http://127.0.0.1:9/hook",
        },
        follow_redirects=False,
    )
    assert created.status_code == 201
    secret = re.search(r"(whsec_\S+)</p>", created.text)
    assert secret
    assert "Sở Nội vụ (hệ thống)" in created.text


@pytest.mark.parametrize("action", ["sua", "khoa-webhook", "nguoi-dung", "khoa"])
def test_every_admin_form_refuses_a_post_without_its_token(
    people: People, orgs: OrgFactory, police: Org, action: str
) -> None:
    admin = people.of(orgs.admin)
    refused = admin.client.post(
        f"/quan-tri/to-chuc/{police.id}/{action}",
        data={"edit-name": "X", "email": "x@tnld.test", "full_name": "X"},
    )
    assert refused.status_code == 403
    assert "Biểu mẫu đã hết hiệu lực" in refused.text
    api = admin.client.get(f"/api/v1/organisations/{police.id}", headers=orgs.admin.headers)
    assert api.json()["name"] == police.name


@pytest.mark.parametrize("action", ["sua", "khoa-webhook", "nguoi-dung", "khoa"])
def test_the_admin_forms_are_for_admins_only(
    people: People, orgs: OrgFactory, police: Org, inspectorate: Org, action: str
) -> None:
    inspector = people.of(inspectorate)
    token = inspector.csrf("/dieu-tra")
    response = inspector.client.post(
        f"/quan-tri/to-chuc/{police.id}/{action}", data={"csrf_token": token}
    )
    assert response.status_code == 403
    assert inspector.client.get(f"/quan-tri/to-chuc/{police.id}").status_code == 403


def test_an_unknown_organisation_is_a_404_page(people: People, orgs: OrgFactory) -> None:
    admin = people.of(orgs.admin)
    page = admin.client.get("/quan-tri/to-chuc/00000000-0000-4000-8000-000000000000")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
