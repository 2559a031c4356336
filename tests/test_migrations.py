"""The Alembic chain on fresh databases (SQLite, and PostgreSQL when TNLD_TEST_DATABASE_URL
points at one): empty to head, head matches the models exactly, every step downgrades and
upgrades again, and a migrated database equals one built from the models. Whatever head is:
the chain grows with the features."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.db import build_engine
from app.migrations import alembic_config
from app.models import Base
from tests.conftest import IS_POSTGRES, TEST_DATABASE_URL

BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=pytest.mark.skipif(not IS_POSTGRES, reason="needs TNLD_TEST_DATABASE_URL"),
    ),
]


class FreshDatabases:
    """Creates empty databases of one backend and removes them afterwards."""

    def __init__(self, backend: str, tmp_path: Path) -> None:
        self.backend = backend
        self.tmp_path = tmp_path
        self.engines: list[Engine] = []
        self.pg_names: list[str] = []
        self._server: Engine | None = None
        if backend == "postgresql":
            server_url = make_url(TEST_DATABASE_URL).set(
                drivername="postgresql+psycopg", database="postgres"
            )
            self._server = create_engine(server_url, isolation_level="AUTOCOMMIT")

    def new(self) -> Engine:
        name = f"tnld_mig_{uuid.uuid4().hex[:12]}"
        if self._server is None:
            url = f"sqlite:///{self.tmp_path / (name + '.db')}"
        else:
            with self._server.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
            self.pg_names.append(name)
            url = (
                make_url(TEST_DATABASE_URL).set(database=name).render_as_string(hide_password=False)
            )
        engine = build_engine(url)
        self.engines.append(engine)
        return engine

    def close(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if self._server is not None:
            with self._server.connect() as connection:
                for name in self.pg_names:
                    connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            self._server.dispose()


@pytest.fixture(params=BACKENDS)
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FreshDatabases]:
    databases = FreshDatabases(request.param, tmp_path)
    yield databases
    databases.close()


def _run(engine: Engine, action: str, revision: str) -> None:
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)


def _current(engine: Engine) -> set[str]:
    with engine.connect() as connection:
        return set(MigrationContext.configure(connection).get_current_heads())


def _differences(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, Base.metadata))


def _revisions() -> list[str]:
    """Every revision, base first."""
    script = ScriptDirectory.from_config(alembic_config())
    return [r.revision for r in reversed(list(script.walk_revisions("base", "heads")))]


def _schema(engine: Engine) -> dict[str, Any]:
    """Tables with their columns, keys, indexes and constraints, in comparable form."""
    inspector = inspect(engine)
    schema: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) - {"alembic_version"}):
        schema[table] = {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in inspector.get_columns(table)
            ],
            "primary_key": inspector.get_pk_constraint(table)["constrained_columns"],
            "foreign_keys": sorted(
                (fk["name"] or "", tuple(fk["constrained_columns"]), fk["referred_table"])
                for fk in inspector.get_foreign_keys(table)
            ),
            "indexes": sorted(
                (ix["name"] or "", tuple(ix["column_names"]), bool(ix["unique"]))
                for ix in inspector.get_indexes(table)
            ),
            "unique": sorted(
                (uq["name"] or "", tuple(uq["column_names"]))
                for uq in inspector.get_unique_constraints(table)
            ),
            "checks": sorted(
                (ck["name"] or "", ck["sqltext"]) for ck in inspector.get_check_constraints(table)
            ),
        }
    return schema


def test_the_chain_has_one_head() -> None:
    assert len(ScriptDirectory.from_config(alembic_config()).get_heads()) == 1


def test_upgrade_from_empty_to_head(fresh: FreshDatabases) -> None:
    engine = fresh.new()
    _run(engine, "upgrade", "head")
    assert _current(engine) == set(ScriptDirectory.from_config(alembic_config()).get_heads())
    assert set(inspect(engine).get_table_names()) == set(Base.metadata.tables) | {"alembic_version"}


def test_head_matches_the_models(fresh: FreshDatabases) -> None:
    engine = fresh.new()
    _run(engine, "upgrade", "head")
    assert _differences(engine) == []


def test_downgrade_to_base_and_upgrade_again(fresh: FreshDatabases) -> None:
    engine = fresh.new()
    _run(engine, "upgrade", "head")
    _run(engine, "downgrade", "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    assert _current(engine) == set()
    _run(engine, "upgrade", "head")
    assert _differences(engine) == []


def test_every_step_downgrades_and_upgrades_again(fresh: FreshDatabases) -> None:
    engine = fresh.new()
    previous = "base"
    for revision in _revisions():
        _run(engine, "upgrade", revision)
        before = _schema(engine)
        _run(engine, "downgrade", previous)
        _run(engine, "upgrade", revision)
        assert _schema(engine) == before, f"{revision} does not downgrade cleanly"
        previous = revision


def test_migrated_database_equals_one_built_from_the_models(fresh: FreshDatabases) -> None:
    migrated = fresh.new()
    _run(migrated, "upgrade", "head")
    built = fresh.new()
    with built.begin() as connection:
        Base.metadata.create_all(connection)
    assert _schema(migrated) == _schema(built)


def test_data_survives_an_upgrade_to_head_from_the_first_revision(
    fresh: FreshDatabases,
) -> None:
    engine = fresh.new()
    first = _revisions()[0]
    _run(engine, "upgrade", first)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, name, kind, notify_emails, created_at) "
                "VALUES (:id, 'Quản trị', 'admin', '[]', :now)"
            ),
            {
                "id": uuid.uuid4().hex if fresh.backend == "sqlite" else str(uuid.uuid4()),
                "now": "2026-11-20 03:00:00",
            },
        )
    _run(engine, "upgrade", "head")
    with engine.connect() as connection:
        assert connection.execute(text("SELECT name FROM organisations")).scalar_one() == "Quản trị"
