"""Test fixtures: a real, migrated database (SQLite, or PostgreSQL with TNLD_TEST_DATABASE_URL),
emptied after every test; the app in-process; organisations of every kind with their keys; a
frozen clock when a test asks for one. Nothing the service talks to is mocked."""

from __future__ import annotations

import os
import socket
import tempfile
import threading
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

_TMP = Path(tempfile.mkdtemp(prefix="tnld-tests-"))
TEST_DATABASE_URL = os.environ.get("TNLD_TEST_DATABASE_URL") or f"sqlite:///{_TMP / 'test.db'}"

# Settings are read from the environment: set them before the app is imported.
os.environ["TNLD_DATABASE_URL"] = TEST_DATABASE_URL
os.environ["TNLD_SECRET_KEY"] = "test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
os.environ["TNLD_EMBEDDED_WORKER"] = "false"
# The tests' receivers listen on loopback: a deployment would name its own networks.
os.environ["TNLD_WEBHOOK_ALLOWED_NETWORKS"] = "127.0.0.0/8"
# Rate limits are tested on their own (tests/test_rate_limits.py); elsewhere they would only
# make one test depend on how many requests the tests before it made.
os.environ["TNLD_RATE_LIMIT_WRITES"] = "0"
os.environ["TNLD_RATE_LIMIT_READS"] = "0"
# Argon2id at full cost takes 64 MiB and a good part of a second per hash: cheap in tests only.
os.environ["TNLD_PASSWORD_HASHING"] = "fast"
os.environ["TNLD_MAIL_DIR"] = str(_TMP / "mail")
os.environ.pop("TNLD_SMTP_HOST", None)
os.environ.pop("TNLD_ENV", None)

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import text  # noqa: E402

from app import clock  # noqa: E402
from app.audit import chain as audit_chain  # noqa: E402
from app.config import get_settings  # noqa: E402
from app.db import get_engine, reset_engine, session_factory  # noqa: E402
from app.main import create_app  # noqa: E402
from app.migrations import upgrade  # noqa: E402
from app.models import Base  # noqa: E402
from app.stats.service import figures_cache  # noqa: E402
from tests.helpers import Configure, Org, OrgFactory  # noqa: E402

IS_POSTGRES = TEST_DATABASE_URL.startswith("postgres")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    skip = pytest.mark.skip(reason="needs PostgreSQL (set TNLD_TEST_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords and not IS_POSTGRES:
            item.add_marker(skip)


def _drop_everything() -> None:
    engine = get_engine()
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        else:
            Base.metadata.drop_all(connection)
            connection.execute(text("DROP TABLE IF EXISTS alembic_version"))


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    """One database per test session, migrated from empty to head by Alembic."""
    get_settings.cache_clear()
    reset_engine()
    _drop_everything()
    upgrade()
    yield TEST_DATABASE_URL
    reset_engine()


def empty_all_tables() -> None:
    engine = get_engine()
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))
        # The audit chain starts again from its empty head (app.audit.chain).
        audit_chain.seed(connection)


@pytest.fixture(autouse=True)
def _clean_state(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    yield
    clock.freeze(None)
    empty_all_tables()
    # Statistics kept by the process (app.stats) belong to the test that computed them.
    figures_cache.clear()
    # app.db.release: a write that succeeded must not leave a transaction open.
    left_open = [
        r.getMessage()
        for phase in ("setup", "call")
        for r in caplog.get_records(phase)
        if "left a transaction open" in r.getMessage()
    ]
    assert left_open == []


@pytest.fixture
def frozen_clock() -> Iterator[Any]:
    """Freeze app.clock at 2026-11-20 10:00 Vietnam time; tests may move it with clock.advance."""
    clock.freeze(datetime.fromisoformat("2026-11-20T10:00:00+07:00"))
    yield clock
    clock.freeze(None)


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(), raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture
def session() -> Iterator[Any]:
    with session_factory()() as db_session:
        yield db_session


@pytest.fixture
def orgs(client: TestClient) -> OrgFactory:
    """Creates organisations through the admin API and returns them with a key each."""
    return OrgFactory(client)


@pytest.fixture
def admin(orgs: OrgFactory) -> Org:
    return orgs.admin


@pytest.fixture
def enterprise(orgs: OrgFactory) -> Org:
    return orgs.create("enterprise", tax_code="6000123456")


@pytest.fixture
def committee(orgs: OrgFactory) -> Org:
    return orgs.create("commune_committee", commune_code="24280")


@pytest.fixture
def police(orgs: OrgFactory) -> Org:
    return orgs.create("police", commune_code="24121", notify_emails=["police643@tnld.test"])


@pytest.fixture
def inspectorate(orgs: OrgFactory) -> Org:
    return orgs.create("inspectorate", notify_emails=["inspectorate@tnld.test"])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def live_server() -> Iterator[str]:
    """The app served by a real uvicorn on loopback, for tests that need real concurrency."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture
def configure() -> Iterator[Configure]:
    """Set TNLD_* settings for this test (``configure(retry_schedule="0s,0s")``); restored after.

    ``get_settings`` is cached: it is cleared on the way in and on the way out.
    """
    saved = dict(os.environ)

    def apply(**values: str) -> None:
        for name, value in values.items():
            os.environ[f"TNLD_{name.upper()}"] = value
        get_settings.cache_clear()

    yield apply
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()
