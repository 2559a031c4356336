"""audit trail hash-chained (Security and privacy: evidence): each event's hash commits to the
previous event's hash, its id and its content (app.audit.chain); the chain's head in
``audit_chain``. Existing events are chained here, oldest first, keeping their ids; ids are
then given by the head, not by a sequence.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from app.audit.chain import GENESIS, content_digest, link
from app.db import UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_events = sa.table(
    "audit_events",
    sa.column("id", ID),
    sa.column("occurred_at", UTCDateTime()),
    sa.column("actor_organisation_id", sa.Uuid()),
    sa.column("actor_api_key_id", sa.Uuid()),
    sa.column("action", sa.String()),
    sa.column("object_type", sa.String()),
    sa.column("object_id", sa.String()),
    sa.column("changes", sa.JSON().with_variant(postgresql.JSONB(), "postgresql")),
    sa.column("hash", sa.String()),
)
_head = sa.table(
    "audit_chain",
    sa.column("id", sa.SmallInteger()),
    sa.column("last_id", ID),
    sa.column("last_hash", sa.String()),
)
BATCH = 1000


def _chain_existing_events() -> tuple[int, str]:
    """Every event, oldest first, gets its hash; returns the head (last id and hash)."""
    connection = op.get_bind()
    last_id, previous = 0, GENESIS
    while True:
        rows = (
            connection.execute(
                sa.select(_events).where(_events.c.id > last_id).order_by(_events.c.id).limit(BATCH)
            )
            .mappings()
            .all()
        )
        if not rows:
            return last_id, previous
        hashes = []
        for row in rows:
            previous = link(previous, int(row["id"]), content_digest(row))
            hashes.append({"event_id": row["id"], "event_hash": previous})
        connection.execute(
            _events.update()
            .where(_events.c.id == sa.bindparam("event_id"))
            .values(hash=sa.bindparam("event_hash")),
            hashes,
        )
        last_id = int(rows[-1]["id"])


def upgrade() -> None:
    op.create_table(
        "audit_chain",
        sa.Column("id", sa.SmallInteger(), autoincrement=False, nullable=False),
        sa.Column("last_id", ID, nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f("ck_audit_chain_one_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_chain")),
    )
    with op.batch_alter_table("audit_events") as batch:
        batch.add_column(sa.Column("hash", sa.String(length=64), nullable=True))
    last_id, last_hash = _chain_existing_events()
    op.get_bind().execute(_head.insert().values(id=1, last_id=last_id, last_hash=last_hash))
    with op.batch_alter_table("audit_events") as batch:
        batch.alter_column("hash", existing_type=sa.String(length=64), nullable=False)
    if op.get_bind().dialect.name == "postgresql":
        # Ids come from the chain's head now: a sequence would hand out numbers out of the
        # chain's order.
        op.execute("ALTER TABLE audit_events ALTER COLUMN id DROP DEFAULT")
        op.execute("DROP SEQUENCE IF EXISTS audit_events_id_seq")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE SEQUENCE audit_events_id_seq OWNED BY audit_events.id")
        op.execute(
            "SELECT setval('audit_events_id_seq', coalesce(max(id), 0) + 1, false) "
            "FROM audit_events"
        )
        op.execute(
            "ALTER TABLE audit_events ALTER COLUMN id "
            "SET DEFAULT nextval('audit_events_id_seq'::regclass)"
        )
    with op.batch_alter_table("audit_events") as batch:
        batch.drop_column("hash")
    op.drop_table("audit_chain")
