"""End to end in a real browser: an enterprise files a fatal report through the form and
downloads its receipt; the inspector finds it at the top of the dashboard and moves it to in
progress; the police acknowledge it. axe-core finds no serious or critical violation on any
page; screenshots at 1280 and 360 px go to screenshots/ (git-ignored)."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from app.auth.models import OrganisationKind as K
from tests.browser.conftest import SCREENSHOTS
from tests.helpers import create_org_direct
from tests.web.conftest import PASSWORD, make_person

AXE = (Path(__file__).resolve().parents[1] / "vendor" / "axe-core" / "axe.min.js").read_text()
WIDTHS = (1280, 360)


def log_in(context: Any, base: str, email: str) -> Any:
    page = context.new_page()
    page.goto(f"{base}/dang-nhap")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.get_by_role("button", name="Đăng nhập").click()
    assert "/dang-nhap" not in page.url
    return page


def axe_violations(page: Any) -> list[dict[str, Any]]:
    page.evaluate(AXE)
    found = page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
            .map(v => ({id: v.id, impact: v.impact, help: v.help,
                        nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}))"""
    )
    return [v for v in found if v["impact"] in ("serious", "critical")]


def check_page(page: Any, name: str, problems: list[str]) -> None:
    """axe at both widths, no horizontal scrolling at 360 px, a screenshot of each."""
    SCREENSHOTS.mkdir(exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        for violation in axe_violations(page):
            problems.append(f"{name} @{width}px: {json.dumps(violation, ensure_ascii=False)}")
        if width == 360:
            overflow = page.evaluate("document.documentElement.scrollWidth")
            if overflow > 360:
                problems.append(f"{name} @360px: page is {overflow} px wide")
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
    assert page.evaluate("document.documentElement.lang") == "vi"


@pytest.fixture
def parties(live_server: str, frozen_clock: Any) -> dict[str, str]:
    enterprise = create_org_direct(K.enterprise, tax_code="6000123456")
    police = create_org_direct(K.police, commune_code="24121", notify_emails=["ca@tnld.test"])
    inspectorate = create_org_direct(K.inspectorate, notify_emails=["snv@tnld.test"])
    return {
        "base": live_server,
        "enterprise": make_person(enterprise),
        "police": make_person(police),
        "inspectorate": make_person(inspectorate),
        "admin": make_person(create_org_direct(K.admin)),
    }


def test_a_fatal_report_from_the_form_to_the_inspector_and_the_police(
    browser: Any, parties: dict[str, str]
) -> None:
    base = parties["base"]
    problems: list[str] = []

    # The enterprise's safety officer.
    context = browser.new_context(bypass_csp=True, locale="vi-VN", accept_downloads=True)
    login = context.new_page()
    login.goto(f"{base}/dang-nhap")
    check_page(login, "dang-nhap", problems)
    login.close()
    page = log_in(context, base, parties["enterprise"])
    check_page(page, "trang-chinh-doanh-nghiep", problems)
    page.goto(f"{base}/bao-cao/moi")
    check_page(page, "bao-cao-moi", problems)
    page.get_by_role("button", name="Tiếp tục").click()  # empty: the error summary
    assert page.locator(".error-summary").is_visible()
    check_page(page, "bao-cao-moi-loi", problems)
    page.fill("#occurred_date", "20/11/2026")
    page.fill("#occurred_time", "08:30")
    page.select_option("#commune_code", "24121")
    page.fill("#address", "Công trường nhà ở, 12 Lê Duẩn")
    page.fill("#summary", "Sập giàn giáo tầng 4 khi đổ bê tông sàn.")
    page.fill("[id='victims-0-full_name']", "Nguyễn Văn A")
    page.select_option("[id='victims-0-gender']", "male")
    page.fill("[id='victims-0-birth_year']", "1990")
    page.select_option("[id='victims-0-outcome']", "dead")
    # 066 Đắk Lắk, 1: a woman born in the 1900s, 85: 1985 — doubtful for this man of 1990,
    # accepted with warnings (contract, Reports).
    page.fill("[id='victims-0-national_id']", "066185001234")
    page.get_by_role("button", name="Thêm người bị nạn").click()
    assert page.locator("[id='victims-1-full_name']").count() == 1
    page.fill("[id='victims-1-full_name']", "Người nhập nhầm")
    check_page(page, "bao-cao-moi-hai-nguoi", problems)
    page.get_by_role("button", name="Xóa người bị nạn 2").click()  # without JavaScript
    assert page.locator("[id='victims-1-full_name']").count() == 0
    assert page.locator("[id='victims-0-full_name']").input_value() == "Nguyễn Văn A"
    assert "Đã xóa một người bị nạn" in page.content()
    page.fill("[id='reporter-full_name']", "Trần Thị B")
    page.fill("[id='reporter-phone']", "0912345678")
    page.get_by_role("button", name="Tiếp tục").click()
    assert "Kiểm tra lại" in page.content()
    assert "Có thông tin nên xem lại" in page.content()
    check_page(page, "kiem-tra", problems)
    page.get_by_role("button", name="Gửi khai báo").click()
    page.wait_for_load_state()
    assert re.search(r"/bao-cao/[0-9a-f-]{36}$", page.url)
    reference = page.locator(".reference").inner_text()
    assert re.fullmatch(r"TNLD-2026-\d{6}", reference)
    assert "là của nữ, khác với giới tính đã khai (Nam)" in page.locator("#warnings").inner_text()
    check_page(page, "bao-cao", problems)
    receipt = context.request.get(page.url + "/bien-nhan.pdf")
    assert receipt.status == 200
    assert receipt.headers["content-type"] == "application/pdf"
    assert reference.encode() in receipt.body()
    report_url = page.url
    page.goto(f"{report_url}/bo-sung")
    check_page(page, "bo-sung", problems)
    page.goto(f"{base}/bao-cao")
    check_page(page, "danh-sach-bao-cao", problems)
    page.goto(f"{base}/dieu-tra")  # not the enterprise's: the 403 page
    check_page(page, "khong-co-quyen", problems)
    response = page.goto(f"{base}/bao-cao/{reference}/khong-co")  # unknown: a page, not JSON
    assert response is not None
    assert response.status == 404
    assert response.headers["content-type"].startswith("text/html")
    check_page(page, "khong-tim-thay", problems)
    context.close()

    # The inspector at Sở Nội vụ.
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    page = log_in(context, base, parties["inspectorate"])
    assert page.url.endswith("/dieu-tra")
    first = page.locator("table.dashboard tbody tr").first
    assert reference in first.inner_text()
    assert re.search(r"còn \d+ ngày", first.inner_text())
    check_page(page, "dieu-tra", problems)
    first.get_by_role("link").click()
    check_page(page, "ho-so-dieu-tra", problems)
    page.get_by_role("button", name="Chuyển sang: Đang điều tra").click()
    page.wait_for_load_state()
    assert "Đang điều tra" in page.locator(".summary-list").first.inner_text()
    page.goto(f"{base}/thong-ke?year=2026")
    check_page(page, "thong-ke", problems)
    page.goto(f"{base}/thong-bao-loi")
    check_page(page, "thong-bao-loi", problems)
    context.close()

    # The duty officer at the commune police.
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    page = log_in(context, base, parties["police"])
    page.goto(f"{base}/bao-cao")
    page.get_by_role("link", name=reference).click()
    page.get_by_role("button", name="Xác nhận đã nhận").click()
    page.wait_for_load_state()
    assert "Đơn vị bạn đã xác nhận đã nhận" in page.content()
    check_page(page, "bao-cao-cong-an", problems)
    context.close()

    # The administrator.
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    page = log_in(context, base, parties["admin"])
    check_page(page, "quan-tri", problems)
    page.locator("table a").first.click()
    check_page(page, "quan-tri-to-chuc", problems)
    context.close()

    assert problems == []


def test_an_admin_sets_up_an_organisation_its_people_keys_and_webhook(
    browser: Any, parties: dict[str, str]
) -> None:
    base = parties["base"]
    problems: list[str] = []
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    page = log_in(context, base, parties["admin"])
    assert page.url.endswith("/quan-tri")
    # A new organisation with a webhook: its signing secret is shown once.
    page.fill("#name", "Công an xã Ea Kao")
    page.select_option("#kind", "police")
    page.fill("#commune_code", "24280")
    page.fill("#webhook_url", "http://127.0.0.1:9/hook")
    page.get_by_role("button", name="Thêm tổ chức").click()
    page.wait_for_load_state()
    assert re.search(r"Khóa ký webhook \(chỉ hiện một lần\): whsec_", page.content())
    check_page(page, "quan-tri-to-chuc-moi", problems)
    # A wrong edit: the error summary links to the field, the input is kept.
    page.fill("[id='edit-webhook_url']", "http://10.0.0.5/hook")
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.wait_for_load_state()
    assert page.locator(".error-summary a[href='#edit-webhook_url']").count() == 1
    check_page(page, "quan-tri-to-chuc-loi", problems)
    page.fill("[id='edit-webhook_url']", "http://127.0.0.1:9/hook")
    page.fill("[id='edit-name']", "Công an xã Ea Kao (trực ban)")
    page.fill("[id='edit-notify_emails']", "trucban@tnld.test")
    page.get_by_role("button", name="Lưu thay đổi").click()
    page.wait_for_load_state()
    assert "Đã lưu thay đổi" in page.content()
    assert page.locator("h1").inner_text() == "Công an xã Ea Kao (trực ban)"
    organisation_url = page.url.split("?")[0]
    # A person: the generated password is shown once.
    page.fill("#email", "trucban@tnld.test")
    page.fill("#full_name", "Đỗ Văn Trực")
    page.get_by_role("button", name=re.compile("Tạo người dùng")).click()
    page.wait_for_load_state()
    assert "Mật khẩu của trucban@tnld.test (chỉ hiện một lần)" in page.content()
    check_page(page, "quan-tri-nguoi-dung", problems)
    # An API key for its system, then a new webhook secret: each shown once.
    page.fill("#label", "hệ thống trực ban")
    page.get_by_role("button", name="Cấp khóa API mới").click()
    page.wait_for_load_state()
    key = re.search(r"Khóa API \(chỉ hiện một lần\): (tnld_\S+)</p>", page.content())
    assert key
    page.get_by_role("button", name="Tạo khóa ký webhook mới").click()
    page.wait_for_load_state()
    assert re.search(r"Khóa ký webhook mới \(chỉ hiện một lần\): whsec_", page.content())
    check_page(page, "quan-tri-khoa", problems)
    page.goto(organisation_url)  # nothing secret is shown again
    assert "whsec_" not in page.content()
    assert key[1] not in page.content()
    context.close()
    assert problems == []


def test_every_page_works_with_the_keyboard_and_shows_where_the_focus_is(
    browser: Any, parties: dict[str, str]
) -> None:
    context = browser.new_context(bypass_csp=True, locale="vi-VN")
    page = context.new_page()
    page.goto(f"{parties['base']}/dang-nhap")
    page.keyboard.press("Tab")  # the skip link first
    assert page.evaluate("document.activeElement.textContent").startswith("Bỏ qua")
    page.keyboard.press("Tab")  # the site's name, a link home
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "email"
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    page.keyboard.type(parties["enterprise"])
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/dang-nhap" not in page.url
    context.close()
