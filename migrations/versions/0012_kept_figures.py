"""statistics kept at write time: ``yearly_figures`` (counts per year of ``occurred_at`` in
Vietnam time and unit) and ``figure_changes`` (append-only changes not yet folded into them),
written by triggers on ``reports`` and ``investigations`` in the writing transaction; existing
reports and investigations are counted into ``yearly_figures`` here (app.stats.kept).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
FIGURES = (
    "reports",
    "labour_accidents",
    "fatal_accidents",
    "deaths",
    "seriously_injured",
    "technical_incidents",
    "technical_incidents_fatal",
    "technical_incident_deaths",
    "technical_incident_seriously_injured",
    "investigations",
    "investigations_open",
    "investigations_concluded",
    "fatal_accidents_concluded",
)
COLUMNS = "year, unit_level, unit_code, " + ", ".join(FIGURES)
ACCIDENT = "{r}.category = 'labour_accident'"
INCIDENT = "{r}.category = 'technical_incident'"
FATAL = "{r}.severity = 'fatal'"
ACTIVE = "{r}.status IN ('open', 'in_progress')"
FINISHED = "{r}.status IN ('concluded', 'closed')"
ACTIVE_PREDICATE = "status IN ('open', 'in_progress')"


def _year(dialect: str, r: str) -> str:
    """The year of ``occurred_at`` in Vietnam time (UTC+7 all year, no summer time since
    1975), as app.stats.service.year_bounds draws it."""
    if dialect == "postgresql":
        return (
            f"CAST(EXTRACT(YEAR FROM {r}.occurred_at AT TIME ZONE 'Asia/Ho_Chi_Minh') AS integer)"
        )
    return f"CAST(strftime('%Y', {r}.occurred_at, '+7 hours') AS INTEGER)"


def _unit(r: str) -> str:
    """The unit a row counts in (app.stats.service._unit_columns): its 2024 district while it
    has one, else its commune of map 2025."""
    return (
        f"CASE WHEN {r}.district_code IS NULL THEN 'commune' ELSE 'district' END, "
        # '' for a row without a place (none is filed so; app.stats.kept reads it back)
        f"COALESCE({r}.district_code, {r}.commune_code, '')"
    )


def _when(condition: str, value: str = "1") -> str:
    return f"CASE WHEN {condition} THEN {value} ELSE 0 END"


def report_counts(dialect: str, r: str, sign: str) -> str:
    """What one report counts (app.stats.service.stats_statement), times ``sign``."""
    a, i, f = ACCIDENT.format(r=r), INCIDENT.format(r=r), FATAL.format(r=r)
    dead, injured = f"COALESCE({r}.dead_count, 0)", f"COALESCE({r}.seriously_injured_count, 0)"
    values = [
        "1",
        _when(a),
        _when(f"{a} AND {f}"),
        _when(a, dead),
        _when(a, injured),
        _when(i),
        _when(f"{i} AND {f}"),
        _when(i, dead),
        _when(i, injured),
        "0",
        "0",
        "0",
        "0",
    ]
    return ", ".join([_year(dialect, r), _unit(r), *(f"{sign} * {v}" for v in values)])


def investigation_counts(dialect: str, r: str, sign: str) -> str:
    """What one investigation counts (app.stats.service.stats_statement, overdue aside: that
    one depends on the time of reading), times ``sign``."""
    a, f = ACCIDENT.format(r=r), FATAL.format(r=r)
    active, finished = ACTIVE.format(r=r), FINISHED.format(r=r)
    values = [*("0" for _ in range(9)), "1", _when(active), _when(finished)]
    values.append(_when(f"{a} AND {f} AND {finished}"))
    return ", ".join([_year(dialect, r), _unit(r), *(f"{sign} * {v}" for v in values)])


COUNTS = {"reports": report_counts, "investigations": investigation_counts}
#: The columns whose change changes what a row counts.
COUNTED = {
    "reports": (
        "occurred_at",
        "district_code",
        "commune_code",
        "category",
        "severity",
        "dead_count",
        "seriously_injured_count",
    ),
    "investigations": (
        "occurred_at",
        "district_code",
        "commune_code",
        "category",
        "severity",
        "status",
    ),
}


def _summed(source: str, *, having_change: bool) -> str:
    sums = ", ".join(f"SUM({name})" for name in FIGURES)
    having = (
        " HAVING " + " OR ".join(f"SUM({name}) <> 0" for name in FIGURES) if having_change else ""
    )
    return (
        f"SELECT year, unit_level, unit_code, {sums} FROM ({source}) AS counted "  # noqa: S608
        f"GROUP BY year, unit_level, unit_code{having}"
    )


def _named(dialect: str, source: str) -> str:
    """``source``'s columns under the kept figures' names."""
    names = ", ".join(("year", "unit_level", "unit_code", *FIGURES))
    if dialect == "postgresql":
        return f"SELECT * FROM ({source}) AS c({names})"  # noqa: S608
    # SQLite has no column list on a derived table: a CTE's does the same.
    return f"WITH c({names}) AS ({source}) SELECT * FROM c"  # noqa: S608


def _postgresql_triggers(table: str) -> str:
    """Statement-level triggers with transition tables: one INSERT of the changes per
    statement, summed per (year, unit) (a bulk load of a million reports appends a few hundred
    rows, a filing one). An update that changes no count appends nothing."""

    def rows(alias: str, sign: str, source: str) -> str:
        return f"SELECT {COUNTS[table]('postgresql', alias, sign)} FROM {source} AS {alias}"  # noqa: S608 (only constants)

    inserted = _summed(_named("postgresql", rows("n", "1", "new_rows")), having_change=False)
    updated = _summed(
        _named(
            "postgresql", f"{rows('n', '1', 'new_rows')} UNION ALL {rows('o', '-1', 'old_rows')}"
        ),
        having_change=True,
    )
    return f"""
CREATE FUNCTION tnld_{table}_figures_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO figure_changes ({COLUMNS}) {inserted};
    RETURN NULL;
END
$$;
CREATE FUNCTION tnld_{table}_figures_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO figure_changes ({COLUMNS}) {updated};
    RETURN NULL;
END
$$;
CREATE TRIGGER {table}_figures_on_insert AFTER INSERT ON {table}
    REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tnld_{table}_figures_inserted();
CREATE TRIGGER {table}_figures_on_update AFTER UPDATE ON {table}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION tnld_{table}_figures_updated();
"""


def _sqlite_triggers(table: str) -> list[str]:
    """Row triggers (SQLite has no other kind); an update appends what the row no longer
    counts and what it counts now."""
    columns = ", ".join(COUNTED[table])
    new = f"INSERT INTO figure_changes ({COLUMNS}) SELECT {COUNTS[table]('sqlite', 'NEW', '1')};"
    old = f"INSERT INTO figure_changes ({COLUMNS}) SELECT {COUNTS[table]('sqlite', 'OLD', '-1')};"
    return [
        f"CREATE TRIGGER {table}_figures_on_insert AFTER INSERT ON {table} BEGIN {new} END",
        f"CREATE TRIGGER {table}_figures_on_update AFTER UPDATE OF {columns} ON {table} "
        f"BEGIN {old} {new} END",
    ]


def _figures() -> list[sa.Column[int]]:
    return [sa.Column(name, sa.BigInteger(), nullable=False) for name in FIGURES]


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "yearly_figures",
        sa.Column("year", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit_level", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=16), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("year", "unit_level", "unit_code", name=op.f("pk_yearly_figures")),
    )
    op.create_table(
        "figure_changes",
        sa.Column("id", ID, autoincrement=True, nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("unit_level", sa.String(length=16), nullable=False),
        sa.Column("unit_code", sa.String(length=16), nullable=False),
        *_figures(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_figure_changes")),
    )
    op.create_index("ix_figure_changes_year", "figure_changes", ["year"])
    # The overdue investigations of a year, counted at each read: the running ones by
    # occurred_at (about 2,000 a year at a million reports).
    op.create_index(
        "ix_investigations_active_occurred",
        "investigations",
        ["occurred_at"],
        postgresql_where=sa.text(ACTIVE_PREDICATE),
        sqlite_where=sa.text(ACTIVE_PREDICATE),
        postgresql_include=["due_at", "district_code", "commune_code"],
    )
    # The existing rows, counted once: the triggers only see what is written from now on.
    existing = " UNION ALL ".join(
        f"SELECT {COUNTS[table](dialect, 'r', '1')} FROM {table} AS r"  # noqa: S608
        for table in COUNTS
    )
    op.execute(
        f"INSERT INTO yearly_figures ({COLUMNS}) "
        + _summed(_named(dialect, existing), having_change=False)
    )
    if dialect == "postgresql":
        for table in COUNTS:
            op.execute(_postgresql_triggers(table))
    else:
        for table in COUNTS:
            for statement in _sqlite_triggers(table):
                op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for table in COUNTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_figures_on_update ON {table}")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_figures_on_insert ON {table}")
            op.execute(f"DROP FUNCTION IF EXISTS tnld_{table}_figures_updated()")
            op.execute(f"DROP FUNCTION IF EXISTS tnld_{table}_figures_inserted()")
    else:
        for table in COUNTS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_figures_on_update")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_figures_on_insert")
    op.drop_index("ix_investigations_active_occurred", table_name="investigations")
    op.drop_index("ix_figure_changes_year", table_name="figure_changes")
    op.drop_table("figure_changes")
    op.drop_table("yearly_figures")
