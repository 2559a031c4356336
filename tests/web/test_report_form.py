"""The report form: the API's fields and rules, check your answers, confirm files once."""

from __future__ import annotations

import faulthandler
import re
import threading
from typing import Any

import httpx
from sqlalchemy import func, select

from app.db import session_factory
from app.notifications.models import Delivery
from app.reports.models import Report
from app.web.report_form import commune_choices
from app.web.vietnamese import sort_key
from tests.helpers import Org
from tests.web.conftest import PASSWORD, People, WebUser, make_person
from tests.web.support import answers


def post(user: WebUser, data: dict[str, str], **extra: str) -> httpx.Response:
    token = user.csrf("/bao-cao/moi")
    response: httpx.Response = user.client.post(
        "/bao-cao/moi", data={**data, "csrf_token": token, **extra}, follow_redirects=False
    )
    return response


def report_count() -> int:
    with session_factory()() as session:
        return int(session.scalar(select(func.count()).select_from(Report)) or 0)


def test_the_form_offers_todays_communes_by_gso_code_in_vietnamese_order(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    page = people.of(enterprise).client.get("/bao-cao/moi")
    assert page.status_code == 200
    select_html = page.text.split('<select id="commune_code" name="commune_code"', 1)[1]
    select_html = select_html.split("</select>", 1)[0]
    options = re.findall(r'<option value="(\d{5})"[^>]*>([^<]+)</option>', select_html)
    assert len(options) == 102  # map 2025: Đắk Lắk's communes and wards
    assert ("24121", "Phường Tân Lập") in options
    names = [name for _, name in options]
    assert names == sorted(names, key=sort_key)
    assert [c for c, _ in options] == [c for c, _ in commune_choices()]


def test_vietnamese_order_puts_d_before_dd_and_u_before_uw() -> None:
    words = ["Đông", "Dương", "Ea Kar", "Ưng", "Uy", "Ân", "An", "Ăn"]
    assert sorted(words, key=sort_key) == ["An", "Ăn", "Ân", "Dương", "Đông", "Ea Kar", "Uy", "Ưng"]


def test_every_control_has_its_name_as_id_and_a_label(people: People, enterprise: Org) -> None:
    page = people.of(enterprise).client.get("/bao-cao/moi").text
    controls = re.findall(r"<(?:input|select|textarea)\b[^>]*>", page)
    for control in controls:
        if 'type="hidden"' in control or 'type="checkbox"' in control:
            continue
        name = re.search(r'name="([^"]+)"', control)
        assert name, control
        assert f'id="{name[1]}"' in control, control
        assert f'for="{name[1]}"' in page
    for field in (
        "category",
        "occurred_date",
        "occurred_time",
        "commune_code",
        "district_code",
        "victims-0-full_name",
        "victims-0-outcome",
        "reporter-phone",
    ):
        assert f'name="{field}"' in page


def test_a_button_adds_a_victim_row_without_javascript(people: People, enterprise: Org) -> None:
    user = people.of(enterprise)
    page = post(user, answers(), add_victim="1")
    assert page.status_code == 200
    assert 'name="victims-1-full_name"' in page.text
    assert 'value="Nguyễn Văn A"' in page.text  # the first row is kept


def test_a_button_per_row_removes_that_victim_and_keeps_the_rest_of_the_input(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    three = answers(
        victims__1__full_name="Lê Văn Hai",
        victims__1__gender="male",
        victims__1__birth_year="1985",
        victims__1__outcome="seriously_injured",
        victims__2__full_name="Phạm Thị Ba",
        victims__2__gender="female",
        victims__2__birth_year="1992",
        victims__2__outcome="seriously_injured",
    )
    form = post(user, three, add_victim="1")  # the page now shows a button on every row
    assert form.text.count('name="remove_victim"') == 4
    assert re.search(r'name="remove_victim" value="1"[^>]*>Xóa người bị nạn 2</button>', form.text)
    page = post(user, three, remove_victim="1")
    assert page.status_code == 200
    assert "Lê Văn Hai" not in page.text
    assert 'value="Nguyễn Văn A"' in page.text
    assert 'value="Phạm Thị Ba"' in page.text
    assert 'name="victims-2-full_name"' not in page.text  # the rows are numbered again
    assert ">Công trường nhà ở, 12 Lê Duẩn</textarea>" in page.text  # the rest kept as typed
    assert "Đã xóa một người bị nạn" in page.text
    assert report_count() == 0
    # What remains is what gets checked: two rows, the removed victim nowhere.
    rows = {k: v for k, v in three.items() if not k.startswith("victims-1-")}
    check = post(user, rows, check="1")
    assert check.status_code == 200
    assert "Lê Văn Hai" not in check.text
    assert "Người bị nạn 2" in check.text


def test_pressing_enter_in_a_field_continues_rather_than_removing_a_victim(
    people: People, enterprise: Org
) -> None:
    """A browser's implicit submission presses the form's first submit button."""
    page = post(people.of(enterprise), answers(), add_victim="1").text
    form = page.split('action="/bao-cao/moi"', 1)[1]
    first_button = re.search(r"<button\b[^>]*>", form)
    assert first_button
    assert 'name="check"' in first_button[0]


def test_doubtful_data_is_told_before_and_after_confirming(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    # 066 Đắk Lắk, 1 = a woman born in the 1900s, 85 = 1985: not the man born in 1990 stated.
    doubtful = answers(victims__0__national_id="066185001234")
    check = post(user, doubtful, check="1")
    assert check.status_code == 200
    assert "Có thông tin nên xem lại" in check.text
    assert "Người bị nạn 1: chữ số thứ 4 của số định danh (1) là của nữ" in check.text
    assert "cho năm sinh 1985, khác với năm sinh đã khai (1990)" in check.text
    done = post(user, doubtful, confirm="1")
    assert done.status_code == 303
    report_id = done.headers["location"].removeprefix("/bao-cao/")
    api = user.client.get(f"/api/v1/reports/{report_id}", headers=enterprise.headers).json()
    assert [w["pointer"] for w in api["warnings"]] == ["/victims/0/national_id"] * 2
    page = user.client.get(done.headers["location"])
    assert "Thông tin nên kiểm tra lại" in page.text
    assert "là của nữ, khác với giới tính đã khai (Nam)" in page.text
    assert "cho năm sinh 1985" in page.text


def test_a_report_without_doubts_shows_no_warning(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    assert "nên xem lại" not in post(user, answers(), check="1").text
    done = post(user, answers(), confirm="1")
    assert "nên kiểm tra lại" not in user.client.get(done.headers["location"]).text


def test_a_rejected_form_keeps_the_input_and_links_each_error_to_its_field(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    page = post(
        user,
        answers(occurred_date="31/02/2026", reporter__phone="số máy abc", address=""),
        check="1",
    )
    assert page.status_code == 422
    summary = page.text.split('class="error-summary"', 1)[1].split("</div>", 1)[0]
    for field in ("occurred_date", "address", "reporter-phone"):
        assert f'href="#{field}"' in summary
    assert page.text.index("error-summary") < page.text.index('id="category"')
    assert 'value="số máy abc"' in page.text
    assert "Số điện thoại không hợp lệ" in page.text
    assert 'aria-invalid="true"' in page.text


def test_a_case_that_is_not_notifiable_is_told_so_citing_the_law(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    page = post(user, answers(victims__0__outcome="seriously_injured"), check="1")
    assert page.status_code == 422
    assert "không thuộc diện khai báo" in page.text
    assert "Điều 34" in page.text
    assert "Điều 10 Nghị định 39/2016" in page.text
    assert report_count() == 0


def test_a_valid_form_shows_the_answers_and_one_confirm_form(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    page = post(user, answers(), check="1")
    assert page.status_code == 200
    assert "Kiểm tra lại" in page.text
    assert "Phường Tân Lập" in page.text
    assert page.text.count('name="confirm"') == 1
    assert report_count() == 0


def test_confirming_files_the_report_as_the_api_would(
    people: People, enterprise: Org, police: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    done = post(user, answers(), confirm="1")
    assert done.status_code == 303
    report_id = done.headers["location"].removeprefix("/bao-cao/")
    api = user.client.get(f"/api/v1/reports/{report_id}", headers=enterprise.headers)
    assert api.status_code == 200
    body = api.json()
    assert body["occurred_at"] == "2026-11-20T08:30:00+07:00"
    assert body["commune_code"] == "24121"
    assert body["severity"] == "fatal"
    assert body["victims"][0]["national_id"] == "066090001234"
    page = user.client.get(done.headers["location"])
    assert body["reference"] in page.text
    recipients = {
        d["recipient"]["id"]
        for d in user.client.get(
            f"/api/v1/reports/{report_id}/notifications", headers=enterprise.headers
        ).json()
    }
    assert recipients == {police.id, inspectorate.id}
    assert police.name in page.text
    assert inspectorate.name in page.text


def test_every_press_of_confirm_for_the_same_answers_leads_to_the_same_report(
    people: People, enterprise: Org, police: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    first = post(user, answers(), confirm="1")
    second = post(user, answers(), confirm="1")
    assert first.status_code == second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert report_count() == 1
    with session_factory()() as session:
        assert session.scalar(select(func.count()).select_from(Delivery)) == 2


def test_simultaneous_presses_of_confirm_lead_to_one_report(
    live_server: str, enterprise: Org, police: Org, inspectorate: Org
) -> None:
    email = make_person(enterprise)
    with httpx.Client(base_url=live_server) as client:
        page = client.get("/dang-nhap")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        client.post(
            "/dang-nhap", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
        )
        form = client.get("/bao-cao/moi")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf
        cookies = dict(client.cookies)
    data = {**answers(occurred_date="01/11/2026"), "csrf_token": csrf[1], "confirm": "1"}
    locations: list[str] = []

    def press() -> None:
        with httpx.Client(base_url=live_server, cookies=cookies, timeout=60) as c:
            try:
                response = c.post("/bao-cao/moi", data=data)
            except httpx.TimeoutException:
                # Once on a CI run (PostgreSQL) a press went unanswered for 30 s and could not
                # be reproduced since: if it happens again, show where every thread of the
                # in-process server stands.
                faulthandler.dump_traceback(all_threads=True)
                raise
            assert response.status_code == 303, response.text
            locations.append(response.headers["location"])

    threads = [threading.Thread(target=press) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(locations) == 6
    assert len(set(locations)) == 1
    assert report_count() == 1


def test_an_accident_before_the_reform_names_its_2024_district(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    missing = post(user, answers(occurred_date="20/05/2025"), check="1")
    assert missing.status_code == 422
    assert 'href="#district_code"' in missing.text
    done = post(user, answers(occurred_date="20/05/2025", district_code="643"), confirm="1")
    assert done.status_code == 303
    page = user.client.get(done.headers["location"])
    assert "Thành phố Buôn Ma Thuột" in page.text


def test_a_commune_committee_reports_in_its_commune_only(
    people: People, committee: Org, frozen_clock: Any
) -> None:
    user = people.of(committee)
    form = user.client.get("/bao-cao/moi").text
    assert re.search(r'<option value="24280" selected>', form)
    outside = post(user, answers(victims__0__employment="no_labour_contract"), check="1")
    assert outside.status_code == 422
    assert "trong địa bàn của mình" in outside.text
    inside = post(
        user,
        answers(commune_code="24280", victims__0__employment="no_labour_contract"),
        confirm="1",
    )
    assert inside.status_code == 303


def test_a_post_of_the_form_without_its_token_is_refused(
    people: People, enterprise: Org, frozen_clock: Any
) -> None:
    user = people.of(enterprise)
    response = user.client.post("/bao-cao/moi", data={**answers(), "confirm": "1"})
    assert response.status_code == 403
    wrong = user.client.post(
        "/bao-cao/moi", data={**answers(), "confirm": "1", "csrf_token": "forged"}
    )
    assert wrong.status_code == 403
    assert report_count() == 0


def test_a_district_committee_reports_an_accident_before_the_reform_in_its_district(
    people: People, orgs: Any, frozen_clock: Any
) -> None:
    user = people.of(orgs.create("district_committee", district_code="643"))
    after = post(user, answers(victims__0__employment="no_labour_contract"), check="1")
    assert after.status_code == 422
    assert "trước 01/07/2025" in after.text
    done = post(
        user,
        answers(
            occurred_date="20/05/2025",
            district_code="643",
            victims__0__employment="no_labour_contract",
        ),
        confirm="1",
    )
    assert done.status_code == 303
    assert "TNLD-2026-" in user.client.get(done.headers["location"]).text
