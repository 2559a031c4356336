"""Recording audit events: time, actor organisation and key, action, object, changed fields."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app import clock
from app.audit import chain
from app.audit.models import AuditEvent
from app.auth.principal import Principal
from app.pagination import PageParams, paginate


def audit_row(
    *,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_id: uuid.UUID | str,
    changes: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one audit event (for :func:`record` or a bulk insert)."""
    return {
        "occurred_at": clock.now(),
        "actor_organisation_id": actor.organisation_id if actor else None,
        "actor_api_key_id": actor.api_key_id if actor else None,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "changes": changes or {},
    }


#: ``Session.info`` key of the events a session has recorded and not yet chained.
_PENDING = "tnld_audit_pending"


def record(
    session: Session,
    *,
    actor: Principal | None,
    action: str,
    object_type: str,
    object_id: uuid.UUID | str,
    changes: dict[str, Any] | None = None,
) -> None:
    """Record an audit event in the caller's transaction: it commits or rolls back with it
    (one event through :func:`write_audit`)."""
    write_audit(
        session,
        [
            audit_row(
                actor=actor,
                action=action,
                object_type=object_type,
                object_id=object_id,
                changes=changes,
            )
        ],
    )


def write_audit(session: Session, rows: list[dict[str, Any]]) -> None:
    """Every audit event is written here (rows from :func:`audit_row`), in the caller's
    transaction; the only other writer is PostgreSQL's one-statement filing
    (app/reports/single_statement.py), which chains the same rows in SQL.

    The events are staged, not flushed: they are chained (given their ids and hashes) when the
    session commits (:func:`_chain_staged`), so that the chain's head is locked only for the
    commit."""
    session.info.setdefault(_PENDING, []).extend(rows)


@event.listens_for(Session, "before_commit")
def _chain_staged(session: Session) -> None:
    """The one place the ORM paths write audit events: everything else is flushed first, then
    the staged events are chained and the transaction committed (app.audit.chain.append; on
    PostgreSQL the append and the COMMIT go out together)."""
    rows = session.info.pop(_PENDING, None)
    if not rows:
        return
    session.flush()
    chain.append(session.connection(), rows, commit=True)


@event.listens_for(Session, "after_soft_rollback")
def _drop_staged(session: Session, _previous: Any) -> None:
    # A rolled-back transaction records nothing.
    session.info.pop(_PENDING, None)


def list_events(
    session: Session,
    *,
    object_type: str | None,
    object_id: str | None,
    action: str | None,
    params: PageParams,
) -> tuple[list[AuditEvent], str | None]:
    """Oldest first (by id: the order of recording)."""
    stmt = select(AuditEvent)
    if object_type is not None:
        stmt = stmt.where(AuditEvent.object_type == object_type)
    if object_id is not None:
        stmt = stmt.where(AuditEvent.object_id == object_id)
    if action is not None:
        stmt = stmt.where(AuditEvent.action == action)
    return paginate(
        session, stmt, order=[(AuditEvent.id, int)], params=params, key=lambda e: (e.id,)
    )
