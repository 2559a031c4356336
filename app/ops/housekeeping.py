"""What the delivery worker does besides sending: it reports itself alive (the heartbeat that
``/readyz`` and ``/metrics`` show) and purges idempotency records past their keeping time."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, insert, select, tuple_, update
from sqlalchemy.engine import Connection

from app.ops.models import WorkerHeartbeat
from app.reports.models import IdempotencyRecord

#: Idempotency records deleted per statement: short transactions, no long lock on the table.
PURGE_BATCH = 500
#: A heartbeat row not renewed for this long is a worker long gone: removed.
FORGET_WORKERS_AFTER = timedelta(days=7)


def beat(connection: Connection, *, worker: str, now: datetime, started_at: datetime) -> None:
    """Record that ``worker`` is alive at ``now`` (one row per worker process)."""
    with connection.begin():
        updated = connection.execute(
            update(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker).values(beat_at=now)
        )
        if updated.rowcount == 0:
            connection.execute(
                insert(WorkerHeartbeat).values(worker=worker, started_at=started_at, beat_at=now)
            )
        connection.execute(
            delete(WorkerHeartbeat).where(WorkerHeartbeat.beat_at < now - FORGET_WORKERS_AFTER)
        )


def forget(connection: Connection, *, worker: str) -> None:
    """A worker stopping in order removes its heartbeat (the others' ages stay true)."""
    with connection.begin():
        connection.execute(delete(WorkerHeartbeat).where(WorkerHeartbeat.worker == worker))


def purge_idempotency_records(
    connection: Connection, *, now: datetime, keep: timedelta, batch: int = PURGE_BATCH
) -> int:
    """Delete records older than ``keep``, ``batch`` at a time; return how many went.

    A key reused after its record is purged files a new report: the contract keeps keys at
    least 24 hours (TNLD_IDEMPOTENCY_TTL), more than any client's retries need."""
    purged = 0
    cutoff = now - keep
    while True:
        with connection.begin():
            oldest = (
                select(IdempotencyRecord.organisation_id, IdempotencyRecord.key)
                .where(IdempotencyRecord.created_at < cutoff)
                .order_by(IdempotencyRecord.created_at)
                .limit(batch)
            )
            keys = [tuple(row) for row in connection.execute(oldest)]
            if not keys:
                return purged
            connection.execute(
                delete(IdempotencyRecord).where(
                    tuple_(IdempotencyRecord.organisation_id, IdempotencyRecord.key).in_(keys)
                )
            )
            purged += len(keys)
        if len(keys) < batch:
            return purged
