"""webhook secret rotation: the previous secret and when it was replaced (for 24 hours
webhooks carry signatures with both); evidence: the SHA-256 of the request body that filed a
report and that made each version (null for rows from before); webhook secrets encrypted at
rest under TNLD_SECRET_KEY (app.sealed), the existing ones encrypted here (Security and privacy)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01
"""

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from app.db import UTCDateTime
from app.sealed import PLAIN_PREFIX, seal, unseal

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


_organisations = sa.table(
    "organisations", sa.column("id", sa.Uuid()), sa.column("webhook_secret", sa.String(100))
)


def _rewrite_secrets(change: Callable[[str], str]) -> None:
    connection = op.get_bind()
    rows = connection.execute(
        sa.select(_organisations.c.id, _organisations.c.webhook_secret).where(
            _organisations.c.webhook_secret.is_not(None)
        )
    ).all()
    for organisation_id, secret in rows:
        connection.execute(
            _organisations.update()
            .where(_organisations.c.id == organisation_id)
            .values(webhook_secret=change(secret))
        )


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch:
        batch.add_column(sa.Column("previous_webhook_secret", sa.String(100), nullable=True))
        batch.add_column(sa.Column("webhook_secret_rotated_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("body_sha256", sa.String(64), nullable=True))
    with op.batch_alter_table("report_versions") as batch:
        batch.add_column(sa.Column("body_sha256", sa.String(64), nullable=True))
    # Encrypt the secrets stored in clear (a secret already sealed is left as it is).
    _rewrite_secrets(lambda secret: seal(secret) if secret.startswith(PLAIN_PREFIX) else secret)


def downgrade() -> None:
    _rewrite_secrets(unseal)
    with op.batch_alter_table("report_versions") as batch:
        batch.drop_column("body_sha256")
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("body_sha256")
    with op.batch_alter_table("organisations") as batch:
        batch.drop_column("webhook_secret_rotated_at")
        batch.drop_column("previous_webhook_secret")
