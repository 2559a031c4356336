"""Logs: one JSON object per line, request ids, and no personal data in any line of the
server or of its delivery worker (a real ``tnld serve`` with its worker child process)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from app.ops.logs import JsonFormatter, request_id_from, scrub
from tests.conftest import free_port
from tests.helpers import Org, report_body, victim

TNLD = str(Path(sys.executable).parent / "tnld")
STRONG_KEY = "k9Qx2-vT7pLm4ZrB8sNw3YcH6dJf1GaE0uKiOo5"

#: Distinctive personal data: none of it may appear in any log line.
PERSONAL = {
    "victim_name": "Lưu Quỳnh Xuyến",
    "victim_name_2": "Đàm Khắc Thưởng",
    "national_id": "001092765431",
    "national_id_2": "079188246813",
    "reporter_name": "Võ Thị Ngọc Diễm",
    "reporter_phone": "0987650123",
    "reporter_phone_e164": "+84987650123",
    "reporter_email": "ngocdiem.vo.canbo@example.vn",
    "injury": "Dập nát cẳng chân phải kèm bỏng độ ba",
    "injury_2": "Đa chấn thương vùng ngực do vật rơi",
    "summary": "Xe nâng lật khi bốc dỡ cuộn thép trong kho số bảy",
}


def _personal_report(**overrides: Any) -> dict[str, Any]:
    return report_body(
        summary=PERSONAL["summary"],
        victims=[
            victim(
                full_name=PERSONAL["victim_name"],
                national_id=PERSONAL["national_id"],
                injury=PERSONAL["injury"],
            ),
            victim(
                full_name=PERSONAL["victim_name_2"],
                national_id=PERSONAL["national_id_2"],
                injury=PERSONAL["injury_2"],
                outcome="seriously_injured",
            ),
        ],
        reporter={
            "full_name": PERSONAL["reporter_name"],
            "position": "Cán bộ an toàn",
            "phone": PERSONAL["reporter_phone"],
            "email": PERSONAL["reporter_email"],
        },
        **overrides,
    )


def _env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TNLD_")}
    env.update(
        TNLD_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}",
        TNLD_SECRET_KEY=STRONG_KEY,
        TNLD_MAIL_DIR=str(tmp_path / "mail"),
        TNLD_WORKER_POLL_SECONDS="0.1",
        TNLD_LOG_FORMAT="json",
        **extra,
    )
    return env


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str, Path]]:
    """``tnld serve`` with its worker, JSON logs to a file; (base url, admin key, log file)."""
    admin = subprocess.run(
        [TNLD, "bootstrap-admin", "--name", "Quản trị"],
        cwd=tmp_path,
        env=_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    key = admin.stdout.strip().splitlines()[-1]
    port = free_port()
    log_file = tmp_path / "serve.log"
    with log_file.open("wb") as stderr:
        process = subprocess.Popen(
            [TNLD, "serve", "--port", str(port)],
            cwd=tmp_path,
            env=_env(tmp_path, TNLD_EMBEDDED_WORKER="true"),
            stdout=stderr,
            stderr=stderr,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/healthz", timeout=1)
                break
            except httpx.TransportError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("tnld serve did not come up") from None
                time.sleep(0.1)
        yield base, key, log_file
    finally:
        process.terminate()
        process.wait(timeout=60)


def _org(base: str, admin_key: str, **body: Any) -> Org:
    headers = {"Authorization": f"Bearer {admin_key}"}
    created = httpx.post(f"{base}/api/v1/organisations", json=body, headers=headers)
    assert created.status_code == 201, created.text
    data = created.json()
    key = httpx.post(f"{base}/api/v1/organisations/{data['id']}/api-keys", json={}, headers=headers)
    assert key.status_code == 201, key.text
    return Org(
        id=data["id"], name=data["name"], kind=body["kind"], key=key.json()["key"], data=data
    )


def test_no_personal_data_in_any_log_line_of_server_and_worker(
    served: tuple[str, str, Path],
) -> None:
    base, admin_key, log_file = served
    _org(
        base,
        admin_key,
        name="Công an huyện",
        kind="police",
        commune_code="24121",
        notify_emails=["congan643@tnld.test"],
    )
    _org(
        base, admin_key, name="Thanh tra", kind="inspectorate", notify_emails=["thanhtra@tnld.test"]
    )
    enterprise = _org(base, admin_key, name="Công ty", kind="enterprise", tax_code="6000123456")
    headers = {**enterprise.headers, "X-Request-ID": "client-chosen-id-42"}

    filed = []
    for n in range(3):
        response = httpx.post(
            f"{base}/api/v1/reports",
            json=_personal_report(),
            headers={**headers, "Idempotency-Key": f"pii-{n}"},
        )
        assert response.status_code == 201, response.text
        assert response.headers["x-request-id"] == "client-chosen-id-42"
        filed.append(response.json())
    # Refused input echoes nothing personal into the logs either.
    bad = _personal_report(occurred_at="not a date")
    refused = httpx.post(
        f"{base}/api/v1/reports", json=bad, headers={**headers, "Idempotency-Key": "pii-bad"}
    )
    assert refused.status_code == 422
    report = filed[0]
    amended = httpx.get(f"{base}/api/v1/reports/{report['id']}", headers=enterprise.headers)
    assert amended.status_code == 200

    mail = log_file.parent / "mail"
    deadline = time.monotonic() + 60
    while len(list(mail.glob("**/*.eml"))) < 6:
        assert time.monotonic() < deadline, "the worker did not deliver in time"
        time.sleep(0.1)
    deadline = time.monotonic() + 30
    while "delivery_id" not in log_file.read_text():
        assert time.monotonic() < deadline, "no worker log line"
        time.sleep(0.1)
    lines = log_file.read_text(encoding="utf-8").splitlines()
    assert lines
    entries = [json.loads(line) for line in lines]  # every line is one JSON object
    for entry in entries:
        assert {"time", "level", "message"} <= set(entry)
    text = log_file.read_text(encoding="utf-8").casefold()
    for what, value in PERSONAL.items():
        assert value.casefold() not in text, f"{what} found in the logs"
        assert json.dumps(value).strip('"').casefold() not in text, f"{what} (escaped) in the logs"

    requests = [e for e in entries if e.get("route") == "/api/v1/reports" and e["status"] == 201]
    assert len(requests) == 3
    assert {e["request_id"] for e in requests} == {"client-chosen-id-42"}
    assert {e["organisation_id"] for e in requests} == {enterprise.id}
    assert all(e["key_id"] and e["duration_ms"] >= 0 for e in requests)
    assert any(e.get("logger", "").startswith("uvicorn") for e in entries)
    assert not any(e.get("logger") == "uvicorn.access" for e in entries)  # raw paths: ours only
    sent = [e for e in entries if "delivery_id" in e]
    assert sent
    assert all(e["outcome"] == "delivered" for e in sent)


def test_request_id_is_taken_or_made_and_returned(client: TestClient) -> None:
    given = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert given.headers["x-request-id"] == "abc-123"
    made = client.get("/healthz")
    assert 1 <= len(made.headers["x-request-id"]) <= 128
    too_long = client.get("/healthz", headers={"X-Request-ID": "x" * 129})
    assert too_long.headers["x-request-id"] != "x" * 129
    assert request_id_from("has space") != "has space"
    assert request_id_from("") != ""
    assert request_id_from("~!" * 64) == "~!" * 64


def test_json_lines_carry_time_level_message_and_extra_fields() -> None:
    record = logging.makeLogRecord(
        {"name": "x", "levelname": "INFO", "msg": "sent %s", "args": ("d1",), "delivery_id": "d1"}
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == "sent d1"
    assert line["level"] == "info"
    assert line["delivery_id"] == "d1"
    assert "time" in line


def test_addresses_quoted_in_errors_are_scrubbed() -> None:
    assert scrub("550 5.1.1 <ngoc.diem@example.vn>: unknown user") == (
        "550 5.1.1 <<address>>: unknown user"
    )
