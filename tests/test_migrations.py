"""The Alembic chain on fresh databases (SQLite, and PostgreSQL when TNLD_TEST_DATABASE_URL
points at one): empty to head, head matches the models exactly, every step downgrades and
upgrades again, and a migrated database equals one built from the models. Whatever head is:
the chain grows with the features."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url

from app.clock import VIETNAM_TZ
from app.db import UTCDateTime, build_engine
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


_orgs = sa.table(
    "organisations",
    sa.column("id", sa.Uuid()),
    sa.column("name", sa.String()),
    sa.column("kind", sa.String()),
    sa.column("notify_emails", sa.JSON()),
    sa.column("created_at", UTCDateTime()),
)
_reports = sa.table(
    "reports",
    *(sa.column(name, sa.Integer()) for name in ("dead_count", "seriously_injured_count")),
    sa.column("minor_injury_count", sa.Integer()),
    sa.column("id", sa.Uuid()),
    *(sa.column(name, sa.String()) for name in ("reference", "category", "severity")),
    *(sa.column(name, sa.String()) for name in ("district_code", "address", "summary")),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("received_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("victims", sa.JSON()),
    sa.column("reporter", sa.JSON()),
    sa.column("submitted_by_id", sa.Uuid()),
    sa.column("late", sa.Boolean()),
    sa.column("version", sa.Integer()),
    sa.column("reporter_phone_e164", sa.String()),
)
_investigations = sa.table(
    "investigations",
    sa.column("id", sa.Uuid()),
    sa.column("report_id", sa.Uuid()),
    *(sa.column(name, sa.String()) for name in ("reference", "district_code", "severity")),
    sa.column("status", sa.String()),
    sa.column("assessment_required", sa.Boolean()),
    sa.column("extended", sa.Boolean()),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("opened_at", UTCDateTime()),
    sa.column("due_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()),
    sa.column("version", sa.Integer()),
    sa.column("extension_days", sa.Integer()),
    sa.column("category", sa.String()),
)


def test_upgrade_recomputes_every_investigations_due_at(fresh: FreshDatabases) -> None:
    """0005: due_at as Law 84 Art. 35.6 and the Civil Code count it; an old extension (the
    whole base period again) becomes extension_days; no victims, no due_at; phones in E.164."""
    engine = fresh.new()
    _run(engine, "upgrade", "0004")
    org_id = uuid.uuid4()
    # Friday 2026-12-04 16:00 Vietnam time.
    received = datetime.fromisoformat("2026-12-04T16:00:00+07:00")
    cases = {
        # name: (dead, seriously injured, minor, extended, assessment)
        "fatal": (1, 0, 0, False, False),
        "fatal_extended": (1, 0, 0, True, False),
        "one_serious": (0, 1, 0, False, False),
        "two_serious_assessed": (0, 2, 0, False, True),
        "minor": (0, 0, 2, False, False),
        "no_victims": (0, 0, 0, False, False),
    }
    ids = {name: (uuid.uuid4(), uuid.uuid4()) for name in cases}
    with engine.begin() as connection:
        connection.execute(
            _orgs.insert().values(
                id=org_id, name="DN", kind="enterprise", notify_emails=[], created_at=received
            )
        )
        for number, (name, (dead, serious, minor, extended, assessment)) in enumerate(
            cases.items()
        ):
            report_id, investigation_id = ids[name]
            connection.execute(
                _reports.insert().values(
                    id=report_id,
                    reference=f"TNLD-2026-{number:06d}",
                    category="technical_incident" if name == "no_victims" else "labour_accident",
                    severity="fatal",
                    dead_count=dead,
                    seriously_injured_count=serious,
                    minor_injury_count=minor,
                    district_code="643",
                    address="Số 1",
                    summary="Tóm tắt",
                    occurred_at=received,
                    received_at=received,
                    updated_at=received,
                    victims=[],
                    reporter={"full_name": "B", "phone": "0262 3852 123"},
                    submitted_by_id=org_id,
                    late=False,
                    version=1,
                )
            )
            connection.execute(
                _investigations.insert().values(
                    id=investigation_id,
                    report_id=report_id,
                    reference=f"TNLD-2026-{number:06d}",
                    district_code="643",
                    severity="fatal",
                    status="open",
                    assessment_required=assessment,
                    extended=extended,
                    occurred_at=received,
                    opened_at=received,
                    due_at=received + timedelta(days=20),
                    updated_at=received,
                    version=1,
                )
            )
    _run(engine, "upgrade", "head")
    with engine.connect() as connection:
        rows = {
            row.id: row
            for row in connection.execute(
                sa.select(
                    _investigations.c.id,
                    _investigations.c.due_at,
                    _investigations.c.extension_days,
                    _investigations.c.category,
                )
            )
        }
        phones = set(connection.execute(sa.select(_reports.c.reporter_phone_e164)).scalars())

    def due(name: str) -> str | None:
        value = rows[ids[name][1]].due_at
        return None if value is None else value.astimezone(VIETNAM_TZ).isoformat()

    # Day 30 is Sunday 3 January 2027 (the contract's example).
    assert due("fatal") == "2027-01-05T00:00:00+07:00"
    # 30 + 30: day 60 is Tuesday 2 February 2027.
    assert due("fatal_extended") == "2027-02-03T00:00:00+07:00"
    assert rows[ids["fatal_extended"][1]].extension_days == 30
    assert rows[ids["fatal"][1]].extension_days is None
    # Day 7 is Friday 11 December.
    assert due("one_serious") == "2026-12-12T00:00:00+07:00"
    # Day 60 is Tuesday 2 February 2027.
    assert due("two_serious_assessed") == "2027-02-03T00:00:00+07:00"
    # Day 4 is Tuesday 8 December.
    assert due("minor") == "2026-12-09T00:00:00+07:00"
    assert due("no_victims") is None
    assert phones == {"+842623852123"}
    assert rows[ids["no_victims"][1]].category == "technical_incident"
    assert rows[ids["fatal"][1]].category == "labour_accident"


def _v1_rows(engine: Engine, backend: str) -> dict[str, str]:
    """A v1 organisation (district police), report of 2026 in district 643 and its
    investigation, written at revision 0004 as v1 wrote them."""
    ids = {name: uuid.uuid4() for name in ("police", "enterprise", "report", "investigation")}
    value = {k: (v.hex if backend == "sqlite" else str(v)) for k, v in ids.items()}
    json_value = "CAST({} AS jsonb)" if backend == "postgresql" else "{}"
    now = "2026-11-20 03:00:00"
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, name, kind, district_code, notify_emails, "
                f"created_at) VALUES (:police, 'Công an TP', 'police', '643', "
                f"{json_value.format(':emails')}, :now), "
                f"(:enterprise, 'Công ty', 'enterprise', NULL, {json_value.format(':none')}, :now)"
            ),
            {**value, "now": now, "emails": '["ca@tnld.test"]', "none": "[]"},
        )
        connection.execute(
            text(
                "INSERT INTO reports (id, reference, category, severity, dead_count, "
                "seriously_injured_count, minor_injury_count, occurred_at, district_code, "
                "address, summary, victims, reporter, submitted_by_id, received_at, late, "
                "version, updated_at) VALUES (:report, 'TNLD-2026-000001', 'labour_accident', "
                "'fatal', 1, 0, 0, :now, '643', 'Địa chỉ', 'Tóm tắt', "
                f"{json_value.format(':victims')}, {json_value.format(':reporter')}, "
                ":enterprise, :now, false, 1, :now)"
            ),
            {**value, "now": now, "victims": "[]", "reporter": "{}"},
        )
        connection.execute(
            text(
                "INSERT INTO investigations (id, report_id, reference, district_code, severity, "
                "status, assessment_required, occurred_at, opened_at, due_at, extended, "
                "updated_at, version) VALUES (:investigation, :report, 'TNLD-2026-000001', "
                "'643', 'fatal', 'open', false, :now, :now, :now, false, :now, 1)"
            ),
            {**value, "now": now},
        )
    return value


def test_v1_reports_keep_their_district_and_gain_current_communes(
    fresh: FreshDatabases,
) -> None:
    engine = fresh.new()
    _run(engine, "upgrade", "0004")
    value = _v1_rows(engine, fresh.backend)
    _run(engine, "upgrade", "head")
    successors = ["24121", "24133", "24154", "24163", "24169", "24175"]
    with engine.connect() as connection:
        report = connection.execute(
            text(
                "SELECT district_code, commune_code, place_name, current_commune_codes FROM reports"
            )
        ).one()
        investigation = connection.execute(
            text("SELECT district_code, commune_code, current_commune_codes FROM investigations")
        ).one()
        communes = connection.execute(
            text("SELECT commune_code FROM report_communes ORDER BY commune_code")
        ).scalars()
        police = connection.execute(
            text("SELECT district_code, commune_code, province_code FROM organisations "
                 "WHERE kind = 'police'")
        ).one()  # fmt: skip
        assert list(communes) == successors
    codes = report[3] if isinstance(report[3], list) else json.loads(report[3])
    assert (report[0], report[1], report[2]) == (
        "643",
        None,
        "Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk",
    )
    assert codes == successors
    inv_codes = (
        investigation[2] if isinstance(investigation[2], list) else json.loads(investigation[2])
    )
    assert (investigation[0], investigation[1], inv_codes) == ("643", None, successors)
    assert tuple(police) == ("643", None, None)  # a legacy district police
    assert value["report"]


def test_upgrade_encrypts_stored_webhook_secrets_and_downgrade_restores_them(
    fresh: FreshDatabases,
) -> None:
    from app.sealed import SEALED_PREFIX, unseal

    engine = fresh.new()
    _run(engine, "upgrade", "0008")
    plain = "whsec_" + "QUJD" * 11
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO organisations (id, name, kind, notify_emails, webhook_url, "
                "webhook_secret, created_at) VALUES (:id, 'Thanh tra', 'inspectorate', '[]', "
                "'https://localhost/h', :secret, :now)"
            ),
            {
                "id": uuid.uuid4().hex if fresh.backend == "sqlite" else str(uuid.uuid4()),
                "secret": plain,
                "now": "2026-11-20 03:00:00",
            },
        )
    _run(engine, "upgrade", "0009")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT webhook_secret FROM organisations")).scalar_one()
    assert stored.startswith(SEALED_PREFIX)
    assert unseal(stored) == plain
    _run(engine, "downgrade", "0008")
    with engine.connect() as connection:
        restored = connection.execute(text("SELECT webhook_secret FROM organisations")).scalar_one()
    assert restored == plain


_audit_events = sa.table(
    "audit_events",
    sa.column("id", sa.BigInteger()),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("actor_organisation_id", sa.Uuid()),
    sa.column("actor_api_key_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.String()),
    sa.column("changes", sa.JSON()),
)


def test_upgrade_chains_the_existing_audit_events_keeping_them(fresh: FreshDatabases) -> None:
    """0010: every event of before is kept, with its id (gaps of a sequence's rolled-back
    numbers included) and chained oldest first; the chain goes on from the last one; a
    downgrade gives the sequence back above the last id."""
    from app.audit import chain
    from app.audit.service import audit_row

    engine = fresh.new()
    _run(engine, "upgrade", "0009")
    org_id, key_id = uuid.uuid4(), uuid.uuid4()
    at = datetime.fromisoformat("2026-11-20T03:00:00.123456+00:00")
    legacy = [
        {
            "id": event_id,
            "occurred_at": at + timedelta(seconds=event_id),
            "actor_organisation_id": org_id if event_id != 9 else None,
            "actor_api_key_id": key_id if event_id != 9 else None,
            "action": action,
            "object_type": "report",
            "object_id": str(uuid.uuid4()),
            "changes": {"severity": "fatal", "count": 2, "note": "Tân Lập"},
        }
        for event_id, action in ((3, "report.filed"), (4, "report.read"), (9, "report.amended"))
    ]
    with engine.begin() as connection:
        connection.execute(_audit_events.insert(), legacy)
    _run(engine, "upgrade", "head")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT id, action FROM audit_events ORDER BY id")).all()
        verdict = chain.verify(connection)
    assert [tuple(r) for r in stored] == [
        (3, "report.filed"),
        (4, "report.read"),
        (9, "report.amended"),
    ]
    assert verdict.intact, verdict
    assert (verdict.events, verdict.last_id) == (3, 9)
    with engine.begin() as connection:
        chain.append(
            connection,
            [audit_row(actor=None, action="x.y", object_type="report", object_id="r")],
        )
    with engine.connect() as connection:
        assert connection.execute(text("SELECT max(id) FROM audit_events")).scalar_one() == 10
        assert chain.verify(connection).intact
    _run(engine, "downgrade", "0009")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO audit_events (occurred_at, action, object_type, object_id, changes) "
                "VALUES (:at, 'a.b', 'report', 'r', '{}')"
            ),
            {"at": "2026-11-20 03:00:00"},
        )
        assert connection.execute(text("SELECT max(id) FROM audit_events")).scalar_one() == 11


def test_upgrade_stores_on_each_event_whether_the_police_were_unroutable(
    fresh: FreshDatabases,
) -> None:
    """0011: the warning the inspectorate's e-mail gives is decided from the rows that exist
    (an unroutable police delivery of the same event), once, for the events written before."""
    engine = fresh.new()
    _run(engine, "upgrade", "0010")

    def new_id() -> str:
        return uuid.uuid4().hex if fresh.backend == "sqlite" else str(uuid.uuid4())

    events = {"no police": new_id(), "no committee": new_id(), "routed": new_id()}
    unroutable_kind = {"no police": "police", "no committee": "commune_committee"}
    with engine.begin() as connection:
        for name, event_id in events.items():
            connection.execute(
                text(
                    "INSERT INTO notification_events (id, type, payload, created_at) "
                    "VALUES (:id, 'report.created', '{}', '2026-11-20 03:00:00')"
                ),
                {"id": event_id},
            )
            kind = unroutable_kind.get(name)
            connection.execute(
                text(
                    "INSERT INTO deliveries (id, event_id, recipient_name, recipient_kind, "
                    "channel, status, attempts, schedule_start, created_at) VALUES "
                    "(:id, :event, 'Nơi nhận', :kind, :channel, :status, 0, 0, "
                    "'2026-11-20 03:00:00')"
                ),
                {
                    "id": new_id(),
                    "event": event_id,
                    "kind": kind or "inspectorate",
                    "channel": None if kind else "email",
                    "status": "unroutable" if kind else "delivered",
                },
            )
    _run(engine, "upgrade", "0011")
    with engine.connect() as connection:
        stored = {
            str(row.id).replace("-", ""): bool(row.police_unroutable)
            for row in connection.execute(
                text("SELECT id, police_unroutable FROM notification_events")
            )
        }
    assert stored == {
        events["no police"].replace("-", ""): True,
        events["no committee"].replace("-", ""): False,
        events["routed"].replace("-", ""): False,
    }
