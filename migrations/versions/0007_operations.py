"""operations: the delivery workers' heartbeats; escalated reports; the daily deadline
digests (deliveries and their events may be about no single report); deliveries indexed by
creation time (metrics)

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "worker_heartbeats",
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("beat_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("worker", name=op.f("pk_worker_heartbeats")),
    )
    op.create_index(op.f("ix_worker_heartbeats_beat_at"), "worker_heartbeats", ["beat_at"])
    op.create_index("ix_deliveries_created_at", "deliveries", ["created_at"])
    op.create_table(
        "escalations",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("escalated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"], ["reports.id"], name=op.f("fk_escalations_report_id_reports")
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_escalations")),
    )

    with op.batch_alter_table("notification_events") as batch:
        batch.alter_column("report_id", existing_type=sa.Uuid(), nullable=True)
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("report_id", existing_type=sa.Uuid(), nullable=True)
    op.create_table(
        "deadline_digests",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=False),
        sa.Column("event_id", sa.Uuid(), nullable=True),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["notification_events.id"],
            name=op.f("fk_deadline_digests_event_id_notification_events"),
        ),
        sa.PrimaryKeyConstraint("day", name=op.f("pk_deadline_digests")),
    )
    op.create_table(
        "deadline_alerts",
        sa.Column("investigation_id", sa.Uuid(), nullable=False),
        sa.Column("threshold", sa.String(16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["investigation_id"],
            ["investigations.id"],
            name=op.f("fk_deadline_alerts_investigation_id_investigations"),
        ),
        sa.PrimaryKeyConstraint("investigation_id", "threshold", name=op.f("pk_deadline_alerts")),
    )


def downgrade() -> None:
    op.drop_table("deadline_alerts")
    op.drop_table("deadline_digests")
    # Digest events and deliveries have no report: they go before the columns are required.
    op.execute(
        "DELETE FROM delivery_attempts WHERE delivery_id IN "
        "(SELECT id FROM deliveries WHERE report_id IS NULL)"
    )
    op.execute("DELETE FROM deliveries WHERE report_id IS NULL")
    op.execute("DELETE FROM notification_events WHERE report_id IS NULL")
    with op.batch_alter_table("deliveries") as batch:
        batch.alter_column("report_id", existing_type=sa.Uuid(), nullable=False)
    with op.batch_alter_table("notification_events") as batch:
        batch.alter_column("report_id", existing_type=sa.Uuid(), nullable=False)
    op.drop_table("escalations")
    op.drop_index("ix_deliveries_created_at", table_name="deliveries")
    op.drop_index(op.f("ix_worker_heartbeats_beat_at"), table_name="worker_heartbeats")
    op.drop_table("worker_heartbeats")
