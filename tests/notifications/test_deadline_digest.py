"""The deadline digest: each working day at TNLD_DEADLINE_DIGEST_AT (Vietnam time) the labour
authority gets one digest of running investigations due within 3 working days and overdue, by
e-mail and as an ``investigation.deadline`` webhook; one per day whatever the number of
workers; each investigation once per threshold."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from fastapi.testclient import TestClient

from app import clock
from app.notifications.worker import Worker
from tests.helpers import Org, file_report, serious_victims
from tests.notifications.conftest import (
    INSPECTORATE_EMAIL,
    POLICE_EMAIL,
    Mailbox,
    Receiver,
    Recipients,
    drain,
)

# 2026-11-20 is a Friday; 23 to 27 November are working days.
FRIDAY_10 = datetime.fromisoformat("2026-11-20T10:00:00+07:00")


def at(moment: str) -> None:
    clock.freeze(datetime.fromisoformat(moment))


def minor(client: TestClient, enterprise: Org) -> dict[str, Any]:
    """Two seriously injured, filed Friday 20 November: a 20-day period, due at the end of
    Thursday 10 December."""
    return file_report(client, enterprise, victims=serious_victims(2))


def digest_hooks(receiver: Receiver) -> list[dict[str, Any]]:
    return [
        h.json for h in receiver.at("/inspectorate") if h.json["type"] == "investigation.deadline"
    ]


def digest_mails(smtp: Mailbox) -> list[Any]:
    return [m for m in smtp.to(INSPECTORATE_EMAIL) if "Nhắc hạn" in str(m.message["Subject"])]


def test_digest_lists_due_soon_then_overdue_once_each(
    client: TestClient,
    enterprise: Org,
    recipients: Recipients,
    smtp: Mailbox,
    receiver: Receiver,
    frozen_clock: Any,
) -> None:
    soon = minor(client, enterprise)
    file_report(client, enterprise)  # fatal: 30 days, not listed
    drain()

    at("2026-12-04T07:00:00+07:00")  # Friday: the 10th is 4 working days away
    assert Worker().send_digest()
    drain()
    assert digest_hooks(receiver) == []  # nothing to list, nothing sent
    at("2026-12-07T06:59:00+07:00")
    assert not Worker().send_digest()  # before the hour
    at("2026-12-07T07:00:00+07:00")
    assert Worker().send_digest()
    assert not Worker().send_digest()  # one per day
    drain()
    hooks = digest_hooks(receiver)
    assert len(hooks) == 1
    data = hooks[0]["data"]
    assert data["date"] == "2026-12-07"
    assert [i["reference"] for i in data["due_soon"]] == [soon["reference"]]
    assert data["overdue"] == []
    mails = digest_mails(smtp)
    assert len(mails) == 1
    assert soon["reference"] in mails[0].text
    assert POLICE_EMAIL not in {
        r for m in smtp.mails for r in m.recipients if "Nhắc hạn" in str(m.message["Subject"])
    }

    at("2026-12-08T08:00:00+07:00")  # still due soon: already alerted, nothing new
    Worker().send_digest()
    drain()
    assert len(digest_hooks(receiver)) == 1

    at("2026-12-11T07:30:00+07:00")  # due at the end of the 10th: now overdue
    assert Worker().send_digest()
    drain()
    hooks = digest_hooks(receiver)
    assert len(hooks) == 2
    assert [i["reference"] for i in hooks[1]["data"]["overdue"]] == [soon["reference"]]
    assert hooks[1]["data"]["due_soon"] == []
    assert len(digest_mails(smtp)) == 2


def test_no_digest_on_a_weekend(
    client: TestClient, enterprise: Org, recipients: Recipients, frozen_clock: Any
) -> None:
    minor(client, enterprise)
    at("2026-11-21T09:00:00+07:00")  # Saturday
    assert not Worker().send_digest()


def test_the_hour_is_a_setting(
    client: TestClient, enterprise: Org, recipients: Recipients, configure: Any, frozen_clock: Any
) -> None:
    configure(deadline_digest_at="09:30")
    minor(client, enterprise)
    at("2026-12-07T09:00:00+07:00")
    assert not Worker().send_digest()
    at("2026-12-07T09:30:00+07:00")
    assert Worker().send_digest()


def test_exactly_one_digest_with_many_workers(
    client: TestClient,
    enterprise: Org,
    recipients: Recipients,
    receiver: Receiver,
    frozen_clock: Any,
) -> None:
    minor(client, enterprise)
    drain()
    at("2026-12-07T07:00:00+07:00")
    workers = [Worker() for _ in range(4)]
    results: list[bool] = []
    threads = [
        threading.Thread(target=lambda w=w: results.append(w.send_digest())) for w in workers
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False, False, False, True]
    drain()
    assert len(digest_hooks(receiver)) == 1
