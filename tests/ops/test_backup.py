"""Backup and restore: ``tnld backup`` of a live service under load, ``tnld restore`` into an
empty database elsewhere; every report accepted before the backup began is there, with all its
deliveries and audit events (the copy is one consistent snapshot), and ``tnld verify-audit``
passes on the copy."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import Engine, make_url

from app.audit.models import AuditEvent
from app.notifications.models import Delivery
from app.reports.models import Report
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL
from tests.helpers import Org, report_body

TNLD = str(Path(sys.executable).parent / "tnld")
STRONG_KEY = "k9Qx2-vT7pLm4ZrB8sNw3YcH6dJf1GaE0uKiOo5"


def _tnld(*args: str, database_url: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TNLD_")}
    env.update(TNLD_DATABASE_URL=database_url, TNLD_SECRET_KEY=STRONG_KEY)
    return subprocess.run(
        [TNLD, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.fixture
def elsewhere(tmp_path: Path) -> Iterator[str]:
    """An empty database to restore into (a new SQLite file, or a new PostgreSQL database)."""
    if not IS_POSTGRES:
        yield f"sqlite:///{tmp_path / 'restored.db'}"
        return
    url = make_url(TEST_DATABASE_URL)
    name = f"{url.database}_restored"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _rows(engine: Engine, report_ids: set[str]) -> tuple[set[str], set[str], set[int]]:
    ids = [uuid.UUID(r) for r in report_ids]
    with engine.connect() as connection:
        reports = {str(r) for r in connection.scalars(select(Report.id).where(Report.id.in_(ids)))}
        deliveries = {
            str(d)
            for d in connection.scalars(select(Delivery.id).where(Delivery.report_id.in_(ids)))
        }
        audit = set(
            connection.scalars(
                select(AuditEvent.id).where(
                    AuditEvent.object_type == "report", AuditEvent.object_id.in_(report_ids)
                )
            )
        )
    return reports, deliveries, audit


def test_backup_of_a_live_service_restores_every_accepted_report(
    live_server: str,
    enterprise: Org,
    police: Org,
    inspectorate: Org,
    tmp_path: Path,
    elsewhere: str,
) -> None:
    accepted: list[str] = []
    stop = threading.Event()
    enough = threading.Event()

    def file_reports() -> None:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            while not stop.is_set():
                response = http.post(
                    "/api/v1/reports",
                    json=report_body(),
                    headers={**enterprise.headers, "Idempotency-Key": str(uuid.uuid4())},
                )
                assert response.status_code == 201, response.text
                accepted.append(response.json()["id"])
                if len(accepted) >= 20:
                    enough.set()

    filer = threading.Thread(target=file_reports)
    filer.start()
    try:
        assert enough.wait(120), "reports were not filed"
        before = set(accepted)
        file = tmp_path / "tnld.backup"
        made = _tnld("backup", "--to", str(file), database_url=TEST_DATABASE_URL, cwd=tmp_path)
        assert made.returncode == 0, made.stderr
        during = len(accepted)
    finally:
        stop.set()
        filer.join(timeout=60)
    assert len(accepted) > len(before)  # filing went on while the backup ran
    assert during >= len(before)

    restored = _tnld("restore", "--from", str(file), database_url=elsewhere, cwd=tmp_path)
    assert restored.returncode == 0, restored.stderr

    source = create_engine(TEST_DATABASE_URL)
    copy = create_engine(elsewhere)
    try:
        reports, deliveries, audit = _rows(copy, set(accepted))
        assert before <= reports  # every report accepted before the backup began
        # A consistent snapshot: each report that is there has all its deliveries and audit.
        _, source_deliveries, source_audit = _rows(source, reports)
        assert deliveries == source_deliveries
        assert audit == source_audit
        assert deliveries
        assert audit
    finally:
        source.dispose()
        copy.dispose()
    # The restored database is current: the service can start on it.
    migrated = _tnld("migrate", database_url=elsewhere, cwd=tmp_path)
    assert migrated.returncode == 0, migrated.stderr
    # The legal record proves itself after the restore (contract, Operations: Backup): the
    # restored audit trail's hash chain is intact, head included.
    verified = _tnld("verify-audit", database_url=elsewhere, cwd=tmp_path)
    assert verified.returncode == 0, verified.stderr
    assert "audit trail intact" in verified.stdout


def test_restore_refuses_a_database_that_is_not_empty(tmp_path: Path) -> None:
    file = tmp_path / "tnld.backup"
    assert (
        _tnld("backup", "--to", str(file), database_url=TEST_DATABASE_URL, cwd=tmp_path).returncode
        == 0
    )
    refused = _tnld("restore", "--from", str(file), database_url=TEST_DATABASE_URL, cwd=tmp_path)
    assert refused.returncode == 1
    assert "not empty" in refused.stderr


def test_backup_refuses_to_overwrite(tmp_path: Path) -> None:
    file = tmp_path / "exists.backup"
    file.write_text("")
    refused = _tnld("backup", "--to", str(file), database_url=TEST_DATABASE_URL, cwd=tmp_path)
    assert refused.returncode == 1
    assert "exists already" in refused.stderr


@pytest.mark.postgres_only
def test_a_missing_pg_dump_is_said_clearly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TNLD_")}
    env.update(
        TNLD_DATABASE_URL=TEST_DATABASE_URL,
        TNLD_SECRET_KEY=STRONG_KEY,
        PATH=str(Path(sys.executable).parent),
    )
    result = subprocess.run(
        [TNLD, "backup", "--to", str(tmp_path / "x")],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert "pg_dump is not installed" in result.stderr
