"""report versions (amendments); indexes for the investigation list and yearly statistics

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: Timestamps are stored in UTC (app.db.UTCDateTime); JSON is JSONB on PostgreSQL.
TIMESTAMP = sa.DateTime(timezone=True)
JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
#: Open or in progress (app.investigations.models.ACTIVE_PREDICATE).
ACTIVE = sa.text("status IN ('open', 'in_progress')")


def upgrade() -> None:
    op.create_table(
        "report_versions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("organisation_id", sa.Uuid(), nullable=False),
        sa.Column("api_key_id", sa.Uuid(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("changes", JSON_DOCUMENT, nullable=False),
        sa.Column("snapshot", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name=op.f("fk_report_versions_organisation_id_organisations"),
        ),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_report_versions_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_versions")),
        sa.UniqueConstraint("report_id", "version", name=op.f("uq_report_versions_report_id")),
    )

    # Running investigations by deadline (the inspectors' list, and the police's district).
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.create_index(
            "ix_investigations_active_due",
            ["due_at", "id"],
            unique=False,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        )
        batch_op.create_index(
            "ix_investigations_active_district_due",
            ["district_code", "due_at", "id"],
            unique=False,
            postgresql_where=ACTIVE,
            sqlite_where=ACTIVE,
        )
        batch_op.create_index(
            "ix_investigations_occurred_stats",
            ["occurred_at"],
            unique=False,
            postgresql_include=["district_code", "status", "severity", "due_at"],
        )
    # The yearly statistics read one year of reports from the index alone; it also serves
    # the occurred_at filters that ix_reports_occurred_at served.
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_occurred_at")
        batch_op.create_index(
            "ix_reports_occurred_stats",
            ["occurred_at"],
            unique=False,
            postgresql_include=[
                "district_code",
                "severity",
                "category",
                "dead_count",
                "seriously_injured_count",
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_index("ix_reports_occurred_stats")
        batch_op.create_index("ix_reports_occurred_at", ["occurred_at"], unique=False)
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.drop_index("ix_investigations_occurred_stats")
        batch_op.drop_index("ix_investigations_active_district_due")
        batch_op.drop_index("ix_investigations_active_due")
    op.drop_table("report_versions")
