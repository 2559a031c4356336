"""E-mails carry no victim names, identity numbers or injury text (Security and privacy; Law
91/2025 on personal data), for new reports and amendments alike."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from tests.helpers import Org, idem, post_report, report_body, victim
from tests.notifications.conftest import Mailbox, Recipients, drain

FIRST = victim(
    full_name="Hoàng Thị Riêngtư",
    national_id="066190004321",
    gender="female",
    birth_year=1990,
    outcome="seriously_injured",
    injury="Gãy xương đùi phải bí mật",
    occupation="Thợ hàn kín đáo",
)
SECOND = victim(
    full_name="Lê Văn Ẩndanh",
    national_id="066095007777",
    outcome="seriously_injured",
    injury="Bỏng độ ba vùng lưng kín",
)


def _personal_values(victims: list[dict[str, Any]]) -> set[str]:
    return {
        str(v[field])
        for v in victims
        for field in ("full_name", "national_id", "injury")
        if v.get(field)
    }


def test_no_email_carries_a_victims_identity_or_injury(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox
) -> None:
    report = post_report(client, enterprise, report_body(victims=[FIRST, SECOND])).json()
    changed = [dict(v) for v in report["victims"]]
    changed[0].update(
        full_name="Hoàng Thị Sửatên",
        national_id="066190009999",
        injury="Đa chấn thương kín đáo",
        outcome="dead",
    )
    added = victim(full_name="Phạm Văn Mớithêm", national_id="066088001111", injury="Gãy tay")
    amended = client.post(
        f"/api/v1/reports/{report['id']}/amendments",
        json={"victims": [*changed, added]},
        headers={**enterprise.headers, **idem()},
    )
    assert amended.status_code == 201, amended.text
    drain()

    personal = _personal_values([FIRST, SECOND, changed[0], added])
    assert {"Cập nhật" in m.message["Subject"] for m in smtp.mails} == {True, False}
    for mail in smtp.mails:
        raw = mail.message.as_string()
        text = mail.text
        for value in personal:
            assert value not in text, (value, mail.message["Subject"])
            assert value not in raw
    assert any("Người bị nạn số 1 – họ và tên: đã thay đổi" in m.text for m in smtp.mails)
