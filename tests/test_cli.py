"""The command line and the settings: what a newcomer and an operator run (contract, Command
line and settings). Commands run as real subprocesses."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from app.db import normalise_url
from tests.conftest import TEST_DATABASE_URL, free_port
from tests.helpers import wait_until_serving

TNLD = str(Path(sys.executable).parent / "tnld")
STRONG_KEY = "k9Qx2-vT7pLm4ZrB8sNw3YcH6dJf1GaE0uKiOo5"


def _env(**overrides: str | None) -> dict[str, str]:
    """The test process's environment without TNLD_* settings, plus ``overrides``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TNLD_")}
    env["TNLD_EMBEDDED_WORKER"] = "false"
    for key, value in overrides.items():
        if value is not None:
            env[key] = value
    return env


def _run(args: list[str], cwd: Path, **env: str | None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120, check=False
    )


# -- settings ----------------------------------------------------------------------------------


@pytest.mark.parametrize("key", [None, "", "short", "a" * 64])
def test_production_refuses_to_start_without_a_strong_secret_key(
    tmp_path: Path, key: str | None
) -> None:
    result = _run(
        [sys.executable, "-m", "app", "migrate"],
        tmp_path,
        TNLD_ENV="production",
        TNLD_SECRET_KEY=key,
        TNLD_DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
    )
    assert result.returncode != 0
    assert "TNLD_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "prod.db").exists()


def test_production_starts_with_a_strong_secret_key(tmp_path: Path) -> None:
    result = _run(
        [sys.executable, "-m", "app", "migrate"],
        tmp_path,
        TNLD_ENV="production",
        TNLD_SECRET_KEY=STRONG_KEY,
        TNLD_DATABASE_URL=f"sqlite:///{tmp_path / 'prod.db'}",
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TNLD_RETRY_SCHEDULE", "5 parsecs"),
        ("TNLD_SMTP_TLS", "ssl3"),
        ("TNLD_ENV", "staging"),
        ("TNLD_WORKER_POLL_SECONDS", "0"),
    ],
)
def test_invalid_setting_stops_the_command_with_a_message(
    tmp_path: Path, name: str, value: str
) -> None:
    result = _run([sys.executable, "-m", "app", "migrate"], tmp_path, **{name: value})
    assert result.returncode != 0
    assert name.removeprefix("TNLD_").lower() in result.stderr.lower()
    assert "Traceback" not in result.stderr


def test_development_generates_the_secret_key_once_in_the_working_directory(
    tmp_path: Path,
) -> None:
    database = f"sqlite:///{tmp_path / 'dev.db'}"
    first = _run([TNLD, "bootstrap-admin", "--name", "Một"], tmp_path, TNLD_DATABASE_URL=database)
    assert first.returncode == 0, first.stderr
    key_file = tmp_path / ".tnld-secret-key"
    generated = key_file.read_text()
    assert len(generated.strip()) >= 32
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    second = _run([TNLD, "bootstrap-admin", "--name", "Hai"], tmp_path, TNLD_DATABASE_URL=database)
    assert second.returncode == 0, second.stderr
    assert key_file.read_text() == generated


def test_key_from_a_development_run_still_works_in_the_next_process(tmp_path: Path) -> None:
    database = f"sqlite:///{tmp_path / 'dev.db'}"
    created = _run([TNLD, "bootstrap-admin", "--name", "A"], tmp_path, TNLD_DATABASE_URL=database)
    key = created.stdout.strip().splitlines()[-1]
    probe = (
        "from fastapi.testclient import TestClient\n"
        "from app.main import create_app\n"
        "c = TestClient(create_app())\n"
        f"print(c.get('/api/v1/organisations', headers={{'Authorization': 'Bearer {key}'}})"
        ".status_code)\n"
    )
    result = _run([sys.executable, "-c", probe], tmp_path, TNLD_DATABASE_URL=database)
    assert result.stdout.strip().splitlines()[-1] == "200", result.stderr


def test_explicit_secret_key_writes_no_key_file(tmp_path: Path) -> None:
    result = _run(
        [TNLD, "bootstrap-admin", "--name", "A"],
        tmp_path,
        TNLD_DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
        TNLD_SECRET_KEY=STRONG_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert not (tmp_path / ".tnld-secret-key").exists()


def test_default_database_is_a_sqlite_file_in_the_working_directory(tmp_path: Path) -> None:
    result = _run([TNLD, "migrate"], tmp_path)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "tnld.db").exists()


# -- bootstrap-admin ---------------------------------------------------------------------------


def test_bootstrap_admin_prints_a_working_key_as_the_last_line(
    tmp_path: Path, client: TestClient
) -> None:
    # Against the test database (plain sqlite:/// or postgresql:// URL) with the tests' secret.
    result = _run(
        [TNLD, "bootstrap-admin", "--name", "Sở Nội vụ Đắk Lắk"],
        tmp_path,
        TNLD_DATABASE_URL=TEST_DATABASE_URL,
        TNLD_SECRET_KEY=os.environ["TNLD_SECRET_KEY"],
    )
    assert result.returncode == 0, result.stderr
    key = result.stdout.rstrip("\n").splitlines()[-1]
    assert key.startswith("tnld_")
    assert key == key.strip()

    response = client.get("/api/v1/organisations", headers={"Authorization": f"Bearer {key}"})
    assert response.status_code == 200, response.text
    assert [o["name"] for o in response.json()["items"]] == ["Sở Nội vụ Đắk Lắk"]
    assert response.json()["items"][0]["kind"] == "admin"


def test_bootstrap_admin_needs_a_name(tmp_path: Path) -> None:
    result = _run([TNLD, "bootstrap-admin"], tmp_path)
    assert result.returncode != 0
    assert "--name" in result.stderr


def test_python_dash_m_app_is_the_same_command(tmp_path: Path) -> None:
    result = _run([sys.executable, "-m", "app", "--help"], tmp_path)
    assert result.returncode == 0
    for command in ("serve", "worker", "migrate", "bootstrap-admin"):
        assert command in result.stdout


# -- database URLs -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "driver"),
    [
        ("sqlite:///tnld.db", "sqlite+pysqlite"),
        ("sqlite:////var/lib/tnld/tnld.db", "sqlite+pysqlite"),
        ("postgresql://postgres@127.0.0.1:5432/tnld", "postgresql+psycopg"),
        ("postgres://postgres@127.0.0.1/tnld", "postgresql+psycopg"),
        ("postgresql+psycopg2://u:p@db/tnld", "postgresql+psycopg"),
        ("postgresql+psycopg://u:p@db/tnld", "postgresql+psycopg"),
    ],
)
def test_plain_database_urls_get_the_service_driver(raw: str, driver: str) -> None:
    assert normalise_url(raw).drivername == driver


# -- serve, health and readiness ---------------------------------------------------------------


@pytest.fixture
def served(tmp_path: Path) -> Iterator[str]:
    """``tnld serve`` on an empty SQLite file in a fresh working directory."""
    port = free_port()
    process = subprocess.Popen(
        [TNLD, "serve", "--port", str(port)],
        cwd=tmp_path,
        env=_env(TNLD_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_serving(process, base)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)


def test_serve_migrates_an_empty_database_before_serving(served: str) -> None:
    assert httpx.get(served + "/readyz").status_code == 200
    divisions = httpx.get(served + "/api/v1/divisions?at=2026-12-01")
    assert len(divisions.json()["items"]) == 1 + 102  # the province and its communes


def test_healthz_is_200(client: TestClient) -> None:
    assert client.get("/healthz").status_code == 200


def test_readyz_is_200_on_a_migrated_database(client: TestClient) -> None:
    assert client.get("/readyz").status_code == 200


_READYZ_PROBE = (
    "from fastapi.testclient import TestClient\n"
    "from app.main import create_app\n"
    "print(TestClient(create_app()).get('/readyz').status_code)\n"
)


def test_readyz_is_503_on_a_database_that_is_not_migrated(tmp_path: Path) -> None:
    (tmp_path / "empty.db").touch()
    result = _run(
        [sys.executable, "-c", _READYZ_PROBE],
        tmp_path,
        TNLD_DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}",
        TNLD_SECRET_KEY=STRONG_KEY,
    )
    assert result.stdout.strip().splitlines()[-1] == "503", result.stderr


def test_readyz_is_503_when_the_database_is_unreachable(tmp_path: Path) -> None:
    result = _run(
        [sys.executable, "-c", _READYZ_PROBE],
        tmp_path,
        TNLD_DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/none",
        TNLD_SECRET_KEY=STRONG_KEY,
    )
    assert result.stdout.strip().splitlines()[-1] == "503", result.stderr
