"""What the e-mail says (contract v2, Notifications): facts, not judgements. Severity as its
class with its counts, "chết người" in the subject whenever anyone died, the hours between
the accident and its receipt instead of "late", and no threshold the report does not meet."""

from __future__ import annotations

import email
import email.policy
import uuid
from datetime import UTC, datetime
from email.policy import compat32
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.auth.models import OrganisationKind
from app.notifications.compose import compose, notice
from app.notifications.email import UNFOLDED, EmailAddress, build_message
from app.notifications.jobs import Job
from app.notifications.models import Channel
from tests.helpers import Org, post_report, report_body, victim
from tests.notifications.conftest import (
    INSPECTORATE_EMAIL,
    POLICE_EMAIL,
    Mailbox,
    Recipients,
    drain,
)


def _boiler_job(emails: tuple[str, ...] = ("a@tnld.test",)) -> Job:
    return Job(
        delivery_id=uuid.uuid4(),
        attempts=0,
        schedule_start=0,
        channel=Channel.email,
        recipient_name="Sở Nội vụ",
        recipient_kind=OrganisationKind.inspectorate,
        event_type="report.created",
        event_created_at=datetime(2026, 11, 20, 3, tzinfo=UTC),
        address=EmailAddress(emails),
        police_unroutable=False,
        payload={
            "id": str(uuid.uuid4()),
            "reference": "TNLD-2026-000001",
            "category": "technical_incident",
            "severity": "fatal",
            "dead_count": 1,
            "seriously_injured_count": 0,
            "minor_injury_count": 0,
            "district_code": "643",
            "address": "Số 1",
            "summary": "Nổ nồi hơi",
            "reporter": {"full_name": "B", "phone": "0912345678"},
        },
    )


def test_a_subject_is_never_split_inside_a_word() -> None:
    """Python folds long encoded headers and can drop the space at a fold; tnld's messages are
    written without folding (checked on the subject that showed it)."""
    job = _boiler_job()
    raw = build_message(job, sender="tnld@tnld.test").as_bytes()
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    letter = compose(
        notice(event_type=job.event_type, payload=job.payload, delivery_id=job.delivery_id)
    )
    assert parsed["Subject"] == letter.subject
    assert "Sự cố kỹ thuật chết người" in parsed["Subject"]


@pytest.mark.parametrize(
    ("sender", "emails"),
    [
        ("tnld@tnld.test", ("a@tnld.test", "b.c@x.vn")),
        ("TNLĐ Đắk Lắk <tnld@tnld.test>", ("a@tnld.test",)),  # a non-ASCII name: folded
        ("tnld@tnld.test", ("thư@tnld.test",)),  # a non-ASCII address: folded
    ],
)
def test_headers_written_as_they_are_change_no_byte(sender: str, emails: tuple[str, ...]) -> None:
    """The e-mail policy writes ASCII headers without compat32's Header folding (for its cost,
    app/notifications/email.py): the bytes on the wire are the same as compat32 writes."""
    message = build_message(_boiler_job(emails=emails), sender=sender)
    as_compat32 = compat32.clone(max_line_length=UNFOLDED, linesep="\r\n")
    assert message.as_bytes(policy=message.policy.clone(linesep="\r\n")) == message.as_bytes(
        policy=as_compat32
    )


def _mail(smtp: Mailbox, address: str = INSPECTORATE_EMAIL) -> Any:
    [mail] = smtp.to(address)
    return mail


def test_fatal_accident(
    client: TestClient,
    enterprise: Org,
    recipients: Recipients,
    smtp: Mailbox,
    frozen_clock: Any,
) -> None:
    body = report_body(
        victims=[
            victim(outcome="dead"),
            victim(full_name="Lê Văn C", national_id=None, outcome="seriously_injured"),
        ]
    )
    report = post_report(client, enterprise, body).json()
    drain()
    mail = _mail(smtp)
    assert report["reference"] in mail.message["Subject"]
    assert "Tai nạn lao động chết người" in mail.message["Subject"]
    text = mail.text
    assert "THÔNG BÁO TAI NẠN LAO ĐỘNG" in text
    assert "Mức độ: Chết người" in text
    assert "Chết: 1 người" in text
    assert "Bị thương nặng: 1 người" in text
    assert "Bị thương nhẹ: 0 người" in text
    assert "trở lên" not in text
    assert "muộn" not in text
    assert "Khoảng thời gian từ khi xảy ra" not in text
    # No victim's name, identity number or injury in an e-mail.
    for personal in ("Nguyễn Văn A", "Lê Văn C", report["victims"][0]["national_id"]):
        assert personal not in text


def test_technical_incident_with_one_seriously_injured(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox
) -> None:
    body = report_body(category="technical_incident", victims=[victim(outcome="seriously_injured")])
    response = post_report(client, enterprise, body)
    assert response.status_code == 201, response.text
    drain()
    for address in (INSPECTORATE_EMAIL, POLICE_EMAIL):
        mail = _mail(smtp, address)
        assert "Sự cố kỹ thuật" in mail.message["Subject"]
        assert "chết người" not in mail.message["Subject"]
        text = mail.text
        assert "SỰ CỐ KỸ THUẬT" in text
        assert "Mức độ: Có người bị thương nặng" in text
        assert "Bị thương nặng: 1 người" in text
        # The Law's threshold for labour accidents is not this report's.
        assert "từ 2" not in text
        assert "hai người" not in text
        assert "trở lên" not in text


def test_technical_incident_with_a_death_says_chet_nguoi_in_the_subject(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox
) -> None:
    body = report_body(category="technical_incident", victims=[victim(outcome="dead")])
    post_report(client, enterprise, body)
    drain()
    subject = _mail(smtp).message["Subject"]
    assert "Sự cố kỹ thuật chết người" in subject


def test_report_received_3_days_after_the_accident_gives_the_hours(
    client: TestClient,
    enterprise: Org,
    recipients: Recipients,
    smtp: Mailbox,
    frozen_clock: Any,
) -> None:
    # The clock is frozen at 2026-11-20 10:00 Vietnam time.
    report = post_report(
        client, enterprise, report_body(occurred_at="2026-11-17T10:00:00+07:00")
    ).json()
    assert report["late"] is True
    drain()
    text = _mail(smtp).text
    assert "Khoảng thời gian từ khi xảy ra đến khi tiếp nhận: 72 giờ" in text
    assert "muộn" not in text
    assert "trễ" not in text


def test_report_received_within_24_hours_says_nothing_about_hours(
    client: TestClient,
    enterprise: Org,
    recipients: Recipients,
    smtp: Mailbox,
    frozen_clock: Any,
) -> None:
    post_report(client, enterprise, report_body(occurred_at="2026-11-19T10:00:00+07:00"))
    drain()
    assert "Khoảng thời gian từ khi xảy ra" not in _mail(smtp).text


def test_amendment_email_names_no_victim(
    client: TestClient, enterprise: Org, recipients: Recipients, smtp: Mailbox
) -> None:
    report = post_report(client, enterprise).json()
    victims = [dict(v) for v in report["victims"]]
    victims[0]["full_name"] = "Nguyễn Văn Anh"
    victims.append(victim(full_name="Phạm Thị D", national_id=None, outcome="minor_injury"))
    response = client.post(
        f"/api/v1/reports/{report['id']}/amendments",
        json={"victims": victims},
        headers={**enterprise.headers, "Idempotency-Key": "amend-names"},
    )
    assert response.status_code == 201, response.text
    drain()
    [amended] = [m for m in smtp.to(INSPECTORATE_EMAIL) if "Cập nhật" in m.message["Subject"]]
    text = amended.text
    assert "Người bị nạn số 1 – họ và tên: đã thay đổi" in text
    assert "Người bị nạn số 2: (trống) → Người bị nạn (Bị thương nhẹ)" in text
    for personal in ("Nguyễn Văn A", "Phạm Thị D"):
        assert personal not in text
