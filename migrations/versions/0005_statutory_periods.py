"""statutory investigation periods (nullable due_at, extension days and approver); the
investigation's category for the statistics; the reporter's phone in E.164

Recomputes ``due_at`` of every existing investigation as Law 84/2015 Art. 35.6 and the Civil
Code 2015 Arts. 147–148 count it (app.investigations.periods). An extension granted before
this revision added the whole base period: it is carried over as ``extension_days`` equal to
the base period in force; its approver was not recorded and stays null.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from collections.abc import Sequence
from datetime import timedelta

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime
from app.identity_numbers import phone_e164
from app.investigations import periods

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_investigations = sa.table(
    "investigations",
    sa.column("id", sa.Uuid()),
    sa.column("report_id", sa.Uuid()),
    sa.column("opened_at", UTCDateTime()),
    sa.column("due_at", UTCDateTime()),
    sa.column("assessment_required", sa.Boolean()),
    sa.column("extended", sa.Boolean()),
    sa.column("extension_days", sa.Integer()),
    sa.column("category", sa.String(32)),
)
_reports = sa.table(
    "reports",
    sa.column("id", sa.Uuid()),
    sa.column("dead_count", sa.Integer()),
    sa.column("seriously_injured_count", sa.Integer()),
    sa.column("minor_injury_count", sa.Integer()),
    sa.column("reporter", sa.JSON()),
    sa.column("reporter_phone_e164", sa.String(16)),
    sa.column("category", sa.String(32)),
)


def upgrade() -> None:
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch_op.add_column(sa.Column("extension_days", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("approved_by", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("category", sa.String(length=32), nullable=True))
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.add_column(sa.Column("reporter_phone_e164", sa.String(length=16), nullable=True))

    connection = op.get_bind()
    connection.execute(
        _investigations.update().values(
            category=sa.select(_reports.c.category)
            .where(_reports.c.id == _investigations.c.report_id)
            .scalar_subquery()
        )
    )
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.alter_column("category", existing_type=sa.String(length=32), nullable=False)
        # The statistics read the category from the yearly index too (PostgreSQL).
        batch_op.drop_index("ix_investigations_occurred_stats")
        batch_op.create_index(
            "ix_investigations_occurred_stats",
            ["occurred_at"],
            unique=False,
            postgresql_include=["district_code", "status", "severity", "due_at", "category"],
        )
    rows = connection.execute(
        sa.select(
            _investigations.c.id,
            _investigations.c.opened_at,
            _investigations.c.assessment_required,
            _investigations.c.extended,
            _reports.c.dead_count,
            _reports.c.seriously_injured_count,
            _reports.c.minor_injury_count,
        ).join(_reports, _reports.c.id == _investigations.c.report_id)
    ).all()
    for row in rows:
        base = periods.base_days(
            dead=row.dead_count,
            seriously_injured=row.seriously_injured_count,
            minor_injury=row.minor_injury_count,
            assessment_required=row.assessment_required,
        )
        extension = base if row.extended and base is not None else None
        connection.execute(
            _investigations.update()
            .where(_investigations.c.id == row.id)
            .values(
                extension_days=extension,
                due_at=periods.due_at(
                    received_at=row.opened_at,
                    days=None if base is None else base + (extension or 0),
                ),
            )
        )
    for report_id, reporter in connection.execute(sa.select(_reports.c.id, _reports.c.reporter)):
        phone = (reporter or {}).get("phone")
        e164 = phone_e164(phone) if isinstance(phone, str) else None
        if e164 is not None:
            connection.execute(
                _reports.update().where(_reports.c.id == report_id).values(reporter_phone_e164=e164)
            )


def downgrade() -> None:
    # The old schema needs a due_at: an investigation without a statutory period gets the old
    # rule's 20 days from receipt.
    connection = op.get_bind()
    undated = connection.execute(
        sa.select(_investigations.c.id, _investigations.c.opened_at).where(
            _investigations.c.due_at.is_(None)
        )
    ).all()
    for investigation_id, opened_at in undated:
        connection.execute(
            _investigations.update()
            .where(_investigations.c.id == investigation_id)
            .values(due_at=opened_at + timedelta(days=20))
        )
    with op.batch_alter_table("reports", schema=None) as batch_op:
        batch_op.drop_column("reporter_phone_e164")
    with op.batch_alter_table("investigations", schema=None) as batch_op:
        batch_op.drop_index("ix_investigations_occurred_stats")
        batch_op.create_index(
            "ix_investigations_occurred_stats",
            ["occurred_at"],
            unique=False,
            postgresql_include=["district_code", "status", "severity", "due_at"],
        )
        batch_op.drop_column("category")
        batch_op.drop_column("approved_by")
        batch_op.drop_column("extension_days")
        batch_op.alter_column("due_at", existing_type=sa.DateTime(timezone=True), nullable=False)
