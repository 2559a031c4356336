"""places by the accident's date (the 2025 reform): report and investigation communes,
organisation areas

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

Existing reports were filed under v1, which knew only the 2024 districts: each keeps its
``district_code`` unchanged (a district of map 2024, whatever the accident's date), gets that
district's full name as ``place_name`` and the district's successors in map 2025 as its
``current_commune_codes`` (read from app/divisions/data, the same data the service uses).
Existing district police keep their district as a legacy area.
"""

import json
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.divisions.service import divisions

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: The last day of map 2024: v1's district codes are read as they stood then.
MAP_2024_LAST_DAY = date(2025, 6, 30)


def _place(district_code: str) -> tuple[str, list[str]]:
    data = divisions()
    district = data.find(district_code, on=MAP_2024_LAST_DAY, level="district")
    if district is None:  # v1 checked every code; keep an unknown one as it was
        return district_code, []
    return data.full_name(district), list(data.current_communes(district))


@contextmanager
def _sqlite_foreign_keys_off() -> Iterator[None]:
    """SQLite: batch mode copies ``reports`` (a parent of many tables) and drops the original;
    with foreign keys on, that drop deletes the rows first and fails. The pragma cannot change
    inside a transaction, so the work runs in a transaction of its own with the check off, and
    is verified with ``foreign_key_check`` before it commits (https://sqlite.org/lang_altertable.html,
    "Making Other Kinds Of Table Schema Changes"). PostgreSQL alters in place."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        yield
        return
    bind.exec_driver_sql("COMMIT")
    bind.exec_driver_sql("PRAGMA foreign_keys=OFF")
    bind.exec_driver_sql("BEGIN IMMEDIATE")
    try:
        yield
        broken = bind.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise RuntimeError(f"foreign keys broken by the migration: {broken[:5]}")
        bind.exec_driver_sql("COMMIT")
    except BaseException:
        bind.exec_driver_sql("ROLLBACK")
        raise
    finally:
        bind.exec_driver_sql("PRAGMA foreign_keys=ON")
        bind.exec_driver_sql("BEGIN IMMEDIATE")


def upgrade() -> None:
    with _sqlite_foreign_keys_off():
        _upgrade()


def downgrade() -> None:
    with _sqlite_foreign_keys_off():
        _downgrade()


def _upgrade() -> None:
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commune_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("province_code", sa.String(length=16), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_organisations_commune_code"), ["commune_code"], unique=False
        )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commune_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("place_name", sa.String(length=500), nullable=True))
        batch_op.add_column(sa.Column("current_commune_codes", JSON_DOCUMENT, nullable=True))
        batch_op.alter_column("district_code", existing_type=sa.String(length=16), nullable=True)
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("commune_code", sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column("current_commune_codes", JSON_DOCUMENT, nullable=True))
        batch_op.alter_column("district_code", existing_type=sa.String(length=16), nullable=True)

    op.create_table(
        "report_communes",
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_communes_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("commune_code", "report_id", name=op.f("pk_report_communes")),
    )

    connection = op.get_bind()
    reports = sa.table(
        "reports",
        sa.column("id", sa.Uuid()),
        sa.column("district_code", sa.String()),
        sa.column("place_name", sa.String()),
        sa.column("current_commune_codes", JSON_DOCUMENT),
    )
    investigations = sa.table(
        "investigations",
        sa.column("report_id", sa.Uuid()),
        sa.column("current_commune_codes", JSON_DOCUMENT),
    )
    report_communes = sa.table(
        "report_communes", sa.column("commune_code", sa.String()), sa.column("report_id", sa.Uuid())
    )
    rows = connection.execute(sa.select(reports.c.id, reports.c.district_code)).all()
    for report_id, district_code in rows:
        name, communes = _place(district_code)
        identifier: uuid.UUID = report_id
        connection.execute(
            reports.update()
            .where(reports.c.id == identifier)
            .values(place_name=name, current_commune_codes=communes)
        )
        connection.execute(
            investigations.update()
            .where(investigations.c.report_id == identifier)
            .values(current_commune_codes=communes)
        )
        if communes:
            connection.execute(
                report_communes.insert(),
                [{"commune_code": c, "report_id": identifier} for c in communes],
            )
    # Investigations without a report row cannot exist (foreign key); any left empty is [].
    connection.execute(
        investigations.update()
        .where(investigations.c.current_commune_codes.is_(None))
        .values(current_commune_codes=sa.cast(json.dumps([]), JSON_DOCUMENT))
    )

    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("place_name", existing_type=sa.String(length=500), nullable=False)
        batch_op.alter_column("current_commune_codes", existing_type=JSON_DOCUMENT, nullable=False)
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.alter_column("current_commune_codes", existing_type=JSON_DOCUMENT, nullable=False)


def _downgrade() -> None:
    # Reports of the 2025 map have no district: they cannot go back to v1's schema.
    op.drop_table("report_communes")
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.alter_column("district_code", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column("current_commune_codes")
        batch_op.drop_column("commune_code")
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.alter_column("district_code", existing_type=sa.String(length=16), nullable=False)
        batch_op.drop_column("current_commune_codes")
        batch_op.drop_column("place_name")
        batch_op.drop_column("commune_code")
    with op.batch_alter_table("organisations", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_organisations_commune_code"))
        batch_op.drop_column("province_code")
        batch_op.drop_column("commune_code")
