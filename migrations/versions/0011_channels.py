"""notifications: whether the police could not be reached is stored on the event when the outbox
rows are written (``notification_events.police_unroutable``; existing events are filled in from
their unroutable police deliveries); on PostgreSQL, one trigger on ``deliveries`` wakes the
delivery worker (NOTIFY ``tnld_deliveries``) whenever a delivery becomes due to send, instead of
each writer doing it

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: A pending delivery written, or a delivery put back to pending (a manual retry): NOTIFY. The
#: worker's own recording of a retry (pending to pending) does not wake it again.
_WAKE = """
CREATE FUNCTION tnld_wake_delivery_worker() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('tnld_deliveries', '');
    RETURN NULL;
END
$$;
CREATE TRIGGER deliveries_wake_worker_on_insert AFTER INSERT ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'pending')
    EXECUTE FUNCTION tnld_wake_delivery_worker();
CREATE TRIGGER deliveries_wake_worker_on_update AFTER UPDATE OF status ON deliveries
    FOR EACH ROW WHEN (NEW.status = 'pending' AND OLD.status <> 'pending')
    EXECUTE FUNCTION tnld_wake_delivery_worker();
"""
_UNWAKE = """
DROP TRIGGER IF EXISTS deliveries_wake_worker_on_update ON deliveries;
DROP TRIGGER IF EXISTS deliveries_wake_worker_on_insert ON deliveries;
DROP FUNCTION IF EXISTS tnld_wake_delivery_worker();
"""


def upgrade() -> None:
    # A plain ALTER TABLE, not batch mode: on SQLite a batch copies and drops the table, which
    # its foreign keys refuse while deliveries point at its rows. Nullable, without a server
    # default (the filing statement writes every column itself; tests/reports): every existing
    # row is given its value below, every new one by app.notifications.outbox.
    op.add_column(
        "notification_events", sa.Column("police_unroutable", sa.Boolean(), nullable=True)
    )
    events = sa.table(
        "notification_events", sa.column("id", sa.Uuid()), sa.column("police_unroutable")
    )
    deliveries = sa.table(
        "deliveries",
        sa.column("event_id", sa.Uuid()),
        sa.column("status", sa.String()),
        sa.column("recipient_kind", sa.String()),
    )
    op.execute(
        events.update().values(
            police_unroutable=sa.exists().where(
                deliveries.c.event_id == events.c.id,
                deliveries.c.status == "unroutable",
                deliveries.c.recipient_kind == "police",
            )
        )
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_WAKE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_UNWAKE)
    # ALTER TABLE … DROP COLUMN (SQLite 3.35+), for the same reason as above.
    op.execute("ALTER TABLE notification_events DROP COLUMN police_unroutable")
