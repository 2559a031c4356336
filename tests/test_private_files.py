"""Files tnld writes hold personal data or secrets: readable by its user only; SQL parameters
(names, identity numbers) never appear in logs or errors (Security and privacy)."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.config import Settings
from app.db import build_engine


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_sqlite_database_is_private(tmp_path: Path) -> None:
    database = tmp_path / "tnld.db"
    engine = build_engine(f"sqlite:///{database}")
    try:
        with engine.begin() as connection:
            connection.execute(text("CREATE TABLE t (x TEXT)"))
    finally:
        engine.dispose()
    assert _mode(database) == 0o600


def test_the_development_secret_key_file_is_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TNLD_SECRET_KEY", raising=False)
    key = Settings().secret_key_bytes
    assert len(key) >= 32
    assert _mode(tmp_path / ".tnld-secret-key") == 0o600


def test_sql_errors_do_not_carry_parameters(tmp_path: Path) -> None:
    engine = build_engine(f"sqlite:///{tmp_path / 'p.db'}")
    try:
        with pytest.raises(SQLAlchemyError) as raised, engine.begin() as connection:
            connection.execute(text("INSERT INTO missing VALUES (:v)"), {"v": "066090001234"})
    finally:
        engine.dispose()
    assert "066090001234" not in str(raised.value)
