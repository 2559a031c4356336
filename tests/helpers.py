"""Builders shared by the tests: valid request bodies, organisations with keys, reports and
investigations through the API, and the settings of one test (``Configure``)."""

from __future__ import annotations

import copy
import itertools
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text

from app.auth.models import OrganisationKind
from app.auth.schemas import OrganisationCreate
from app.auth.service import (
    KEY_CREATED_EVENT,
    bootstrap_admin,
    create_organisation,
    issue_api_key,
)
from app.db import get_engine, session_factory
from app.notifications.models import Delivery, NotificationEvent

_names = itertools.count(1)

#: The ``configure`` fixture (tests/conftest.py): ``configure(retry_schedule="0s,0s")`` sets
#: ``TNLD_RETRY_SCHEDULE`` for one test.
Configure = Callable[..., None]


@dataclass
class Org:
    id: str
    name: str
    kind: str
    key: str
    data: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.key}"}


class OrgFactory:
    def __init__(self, client: TestClient) -> None:
        self.client = client
        self._admin: Org | None = None

    @property
    def admin(self) -> Org:
        if self._admin is None:
            with session_factory()() as session:
                organisation, key = bootstrap_admin(session, name="Quản trị")
                self._admin = Org(
                    id=str(organisation.id), name=organisation.name, kind="admin", key=key, data={}
                )
        return self._admin

    def create(self, kind: str, **fields: Any) -> Org:
        body = {"name": f"{kind} {next(_names)}", "kind": kind, **fields}
        response = self.client.post("/api/v1/organisations", json=body, headers=self.admin.headers)
        assert response.status_code == 201, response.text
        data = response.json()
        key = self.client.post(
            f"/api/v1/organisations/{data['id']}/api-keys", json={}, headers=self.admin.headers
        )
        assert key.status_code == 201, key.text
        forget_key_notice(key.json()["id"])
        return Org(id=data["id"], name=data["name"], kind=kind, key=key.json()["key"], data=data)


def forget_key_notice(key_id: str) -> None:
    """Remove the e-mail telling an organisation that ``key_id`` was created for it (written
    when it has ``notify_emails``: contract, Security and privacy). The organisations the
    factories make are the scene of a test, not its subject: the tests of report notifications
    count the e-mails of reports. tests/notifications/test_key_notice.py tests the notice itself."""
    with session_factory()() as session:
        events = [
            event.id
            for event in session.scalars(
                select(NotificationEvent).where(
                    NotificationEvent.type == KEY_CREATED_EVENT,
                    NotificationEvent.report_id.is_(None),
                )
            )
            if event.payload["api_key"]["id"] == key_id
        ]
        if events:
            session.execute(delete(Delivery).where(Delivery.event_id.in_(events)))
            session.execute(delete(NotificationEvent).where(NotificationEvent.id.in_(events)))
            session.commit()


def create_org_direct(kind: OrganisationKind, **fields: Any) -> Org:
    """An organisation created through the service (no HTTP), for tests without a client."""
    with session_factory()() as session:
        data = OrganisationCreate(name=f"{kind} {next(_names)}", kind=kind, **fields)
        organisation = create_organisation(session, actor=None, data=data)
        issued, key = issue_api_key(
            session, actor=None, organisation_id=organisation.id, label=None
        )
        forget_key_notice(str(issued.id))
        return Org(id=str(organisation.id), name=organisation.name, kind=kind, key=key, data={})


VALID_REPORT: dict[str, Any] = {
    "category": "labour_accident",
    "occurred_at": "2026-11-20T08:30:00+07:00",
    "commune_code": "24121",
    "commune": "Tổ dân phố 5",
    "address": "Công trường nhà ở, 12 Lê Duẩn",
    "summary": "Sập giàn giáo tầng 4 khi đổ bê tông sàn.",
    "initial_cause": "Giàn giáo không được neo giữ",
    "measures_taken": "Dừng thi công, phong tỏa hiện trường",
    "employer_name": "Công ty TNHH Xây dựng Tây Nguyên",
    "victims": [
        {
            "full_name": "Nguyễn Văn A",
            "gender": "male",
            "birth_year": 1990,
            "occupation": "Thợ xây",
            "national_id": "066090001234",
            "employment": "labour_contract",
            "outcome": "dead",
            "injury": "Chấn thương sọ não",
        }
    ],
    "reporter": {
        "full_name": "Trần Thị B",
        "position": "Cán bộ ATVSLĐ",
        "phone": "0912345678",
        "email": "b@example.vn",
    },
}


def report_body(**overrides: Any) -> dict[str, Any]:
    """A valid fatal-accident report of 2026 in commune 24121 (Phường Tân Lập), with top-level
    fields overridden."""
    body = copy.deepcopy(VALID_REPORT)
    body.update(overrides)
    return body


def victim(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = copy.deepcopy(VALID_REPORT["victims"][0])
    data.update(overrides)
    return data


def idem() -> dict[str, str]:
    return {"Idempotency-Key": str(uuid.uuid4())}


def post_report(client: TestClient, org: Org, body: dict[str, Any] | None = None) -> Any:
    return client.post(
        "/api/v1/reports",
        json=body if body is not None else report_body(),
        headers={**org.headers, **idem()},
    )


# -- Reports, investigations (the investigation, audit, statistics, ops and web tests) -------

API = "/api/v1"


def file_report(client: TestClient, org: Org, **overrides: Any) -> dict[str, Any]:
    """File a report (fatal, 2026, commune 24121, unless overridden); returns it as created."""
    response = post_report(client, org, report_body(**overrides))
    assert response.status_code == 201, response.text
    return dict(response.json())


def serious_victims(count: int = 2) -> list[dict[str, Any]]:
    return [
        victim(full_name=f"Nạn nhân {i}", national_id=None, outcome="seriously_injured")
        for i in range(count)
    ]


def investigation_of(client: TestClient, reader: Org, report: dict[str, Any]) -> dict[str, Any]:
    response = client.get(
        f"{API}/investigations/{report['investigation_id']}", headers=reader.headers
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def patch(
    client: TestClient, org: Org, investigation_id: str, body: dict[str, Any], **headers: str
) -> Any:
    return client.patch(
        f"{API}/investigations/{investigation_id}", json=body, headers={**org.headers, **headers}
    )


def move(client: TestClient, org: Org, investigation_id: str, *statuses: str) -> Any:
    """Walk an investigation through statuses (concluding with a conclusion)."""
    response = None
    for status in statuses:
        body: dict[str, Any] = {"status": status}
        if status == "concluded":
            body["conclusion"] = "Nguyên nhân: giàn giáo không được neo giữ."
        response = patch(client, org, investigation_id, body)
        assert response.status_code == 200, response.text
    return response


def wait_until_serving(process: subprocess.Popen[bytes], base: str, *, timeout: float = 60) -> None:
    """Wait for a ``tnld serve`` started by a test to answer ``/healthz``; fail if it exits or
    does not come up in time."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            httpx.get(f"{base}/healthz", timeout=1)
            return
        except httpx.TransportError:
            assert time.monotonic() < deadline, "tnld serve did not come up"
            assert process.poll() is None, "tnld serve exited"
            time.sleep(0.1)


def lose_connection_while_locked(
    lock: str, params: dict[str, Any], act: Callable[[], None], *, what: str
) -> None:
    """PostgreSQL: hold a lock (``lock``, a locking statement), run ``act`` in a thread until a
    session of this database waits for that lock, terminate that session's backend (its
    connection is lost in the middle of its work, as when the database restarts), and wait for
    ``act`` to finish."""
    with get_engine().connect() as other:
        other.execute(text(lock), params)
        actor = threading.Thread(target=act)
        actor.start()
        waiting = None
        for _ in range(200):
            # pg_stat_activity is a snapshot per transaction: a new one each time.
            other.execute(text("SELECT pg_stat_clear_snapshot()"))
            waiting = other.scalar(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                    "AND datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
            if waiting is not None:
                break
            time.sleep(0.05)
        assert waiting is not None, f"{what} never waited for the lock"
        other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": waiting})
        actor.join()
        other.rollback()
