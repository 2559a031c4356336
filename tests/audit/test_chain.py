"""The audit trail is hash-chained (contract, Security and privacy: evidence): every path that
records events (the filing, in one statement on PostgreSQL and in steps on SQLite; the ORM's
amendments, investigation changes, ``report.read``, keys) writes into one chain, and
``tnld verify-audit`` exits 0 when it is intact and 1, naming the first bad event, when an
event was changed, removed or reordered."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Connection, delete, func, select, update

from app.audit import chain
from app.audit.models import AuditChainHead, AuditEvent
from app.db import get_engine, session_factory
from tests.conftest import TEST_DATABASE_URL
from tests.helpers import API, Org, file_report, idem, move, report_body, serious_victims

TNLD = str(Path(sys.executable).parent / "tnld")
STRONG_KEY = "k9Qx2-vT7pLm4ZrB8sNw3YcH6dJf1GaE0uKiOo5"


def verify_cli(tmp_path: Path) -> subprocess.CompletedProcess[str]:
    import os

    env = {k: v for k, v in os.environ.items() if not k.startswith("TNLD_")}
    env.update(TNLD_DATABASE_URL=TEST_DATABASE_URL, TNLD_SECRET_KEY=STRONG_KEY)
    return subprocess.run(
        [TNLD, "verify-audit"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verdict() -> chain.Verdict:
    with get_engine().connect() as connection:
        return chain.verify(connection)


def ids() -> list[int]:
    with get_engine().connect() as connection:
        return list(connection.scalars(select(AuditEvent.id).order_by(AuditEvent.id)))


def every_path(client: TestClient, enterprise: Org, police: Org, inspectorate: Org) -> None:
    """Events from each way tnld records them."""
    report = file_report(client, enterprise, victims=serious_victims(2))
    file_report(client, enterprise)
    victims = [dict(v) for v in report["victims"]]
    victims[0]["outcome"] = "dead"
    amended = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"victims": victims},
        headers={**enterprise.headers, **idem()},
    )
    assert amended.status_code == 201, amended.text
    read = client.get(f"{API}/reports/{report['id']}", headers=police.headers)
    assert read.status_code == 200  # report.read
    move(client, inspectorate, report["investigation_id"], "in_progress")


def test_every_path_writes_one_intact_chain(
    client: TestClient, enterprise: Org, police: Org, inspectorate: Org, tmp_path: Path
) -> None:
    every_path(client, enterprise, police, inspectorate)
    recorded = ids()
    assert len(recorded) >= 10
    assert recorded == list(range(1, len(recorded) + 1))  # ids are places in the chain
    found = verdict()
    assert found.intact, found
    assert found.events == len(recorded)
    with get_engine().connect() as connection:
        head = connection.execute(select(AuditChainHead.last_id, AuditChainHead.last_hash)).one()
        last = connection.execute(select(AuditEvent.hash).order_by(AuditEvent.id.desc())).first()
    assert head.last_id == recorded[-1]
    assert last is not None
    assert head.last_hash == last.hash
    result = verify_cli(tmp_path)
    assert result.returncode == 0, result.stderr
    assert f"{len(recorded)} events" in result.stdout


def test_the_hash_python_computes_is_the_one_the_database_wrote(
    client: TestClient, enterprise: Org
) -> None:
    """PostgreSQL links the filing's events with its own sha256(); Python recomputes them."""
    file_report(client, enterprise)
    with session_factory()() as session:
        events = list(session.scalars(select(AuditEvent).order_by(AuditEvent.id)))
    previous = chain.GENESIS
    for event in events:
        content = {c: getattr(event, c) for c in chain.CONTENT_COLUMNS}
        previous = chain.link(previous, event.id, chain.content_digest(content))
        assert event.hash == previous


def _edit(connection: Connection, target: int) -> None:
    connection.execute(
        update(AuditEvent).where(AuditEvent.id == target).values(changes={"severity": "minor"})
    )


def _remove(connection: Connection, target: int) -> None:
    connection.execute(delete(AuditEvent).where(AuditEvent.id == target))


def _swap(connection: Connection, target: int) -> None:
    """Event ``target`` and the next change places (whole rows, their hashes with them)."""
    for old, new in ((target, -1), (target + 1, target), (-1, target + 1)):
        connection.execute(update(AuditEvent).where(AuditEvent.id == old).values(id=new))


TAMPERING: dict[str, tuple[Callable[[Connection, int], None], str]] = {
    "edited": (_edit, "does not match its hash"),
    "removed": (_remove, "does not follow event"),
    "reordered": (_swap, "does not match its hash"),
}


@pytest.mark.parametrize("how", TAMPERING)
def test_a_broken_chain_is_detected_naming_the_first_bad_event(
    how: str,
    client: TestClient,
    enterprise: Org,
    police: Org,
    inspectorate: Org,
    tmp_path: Path,
) -> None:
    every_path(client, enterprise, police, inspectorate)
    total = len(ids())
    target = 4
    tamper, reason = TAMPERING[how]
    with get_engine().begin() as connection:
        tamper(connection, target)
    # Removing event 4 makes event 5 the first that no longer holds.
    first_bad = target + 1 if how == "removed" else target
    found = verdict()
    assert not found.intact
    assert found.bad_event == first_bad
    assert reason in found.reason
    assert found.events == target - 1  # the events before it still hold
    result = verify_cli(tmp_path)
    assert result.returncode == 1
    assert f"BROKEN at event {first_bad}:" in result.stderr
    assert total > target + 1


def test_removing_the_last_events_is_detected_by_the_head(
    client: TestClient, enterprise: Org, tmp_path: Path
) -> None:
    file_report(client, enterprise)
    last = ids()[-1]
    with get_engine().begin() as connection:
        connection.execute(delete(AuditEvent).where(AuditEvent.id == last))
    found = verdict()
    assert found.bad_event == last
    assert "is missing" in found.reason
    result = verify_cli(tmp_path)
    assert result.returncode == 1
    assert f"BROKEN at event {last}:" in result.stderr


def test_a_missing_head_fails_the_write_instead_of_writing_unchained(
    client: TestClient, enterprise: Org
) -> None:
    with get_engine().begin() as connection:
        before = connection.scalar(select(func.count()).select_from(AuditEvent))
        connection.execute(delete(AuditChainHead))
    response = client.post(
        f"{API}/reports", json=report_body(), headers={**enterprise.headers, **idem()}
    )
    assert response.status_code == 500
    with get_engine().begin() as connection:
        after = connection.scalar(select(func.count()).select_from(AuditEvent))
        # Put the head back as it was, so that the test's cleanup finds the usual state.
        last = connection.execute(
            select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc())
        ).first()
        assert last is not None
        chain.seed(connection)
        connection.execute(update(AuditChainHead).values(last_id=last.id, last_hash=last.hash))
    assert after == before  # nothing of the filing was written


def test_concurrent_writers_keep_one_chain(
    live_server: str, enterprise: Org, police: Org, inspectorate: Org
) -> None:
    """Filings, amendments and reads by other organisations at once, from several threads
    (several connections racing for the head): one gap-free chain, intact."""
    errors: list[str] = []

    def work(n: int) -> None:
        with httpx.Client(base_url=live_server, timeout=60) as http:
            for _ in range(6):
                filed = http.post(
                    "/api/v1/reports",
                    json=report_body(),
                    headers={**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())},
                )
                if filed.status_code != 201:
                    errors.append(filed.text)
                    continue
                report: dict[str, Any] = filed.json()
                read = http.get(f"/api/v1/reports/{report['id']}", headers=police.headers)
                if read.status_code != 200:
                    errors.append(read.text)
                if n % 2:
                    amended = http.post(
                        f"/api/v1/reports/{report['id']}/amendments",
                        json={"summary": f"Bổ sung {n}"},
                        headers={**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())},
                    )
                    if amended.status_code != 201:
                        errors.append(amended.text)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert errors == []
    recorded = ids()
    assert recorded == list(range(1, len(recorded) + 1))
    found = verdict()
    assert found.intact, found
