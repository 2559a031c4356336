from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    DDL,
    BigInteger,
    CheckConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Uuid,
    event,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONDocument, UTCDateTime


class AuditEvent(Base):
    """An append-only record of a state-changing action. No code path updates or deletes it.

    Hash-chained (app.audit.chain): ``id`` is the event's place in the chain (1, 2, 3, … with
    no gap, given by the chain's head, not by a sequence) and ``hash`` commits to the previous
    event's hash, to ``id`` and to every other column."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=False
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor_organisation_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    actor_api_key_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    action: Mapped[str] = mapped_column(String(64))
    object_type: Mapped[str] = mapped_column(String(64))
    object_id: Mapped[str] = mapped_column(String(64))
    changes: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (Index("ix_audit_events_object", "object_type", "object_id", "id"),)


class AuditChainHead(Base):
    """The chain's head: the last event's id and hash, in one row (``id`` = 1).

    Every transaction that records events locks this row for as long as it takes to chain
    them and commit (app.audit.chain), as ``report_sequences`` is locked for a year's numbers.
    A missing row (a table emptied by hand) makes every audit write fail, never pass unchained.
    """

    __tablename__ = "audit_chain"

    id: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    last_id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer(), "sqlite"))
    last_hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (CheckConstraint("id = 1", name="one_row"),)


# A database built from the models (not by the migrations, which write the row themselves)
# starts with the head of an empty chain.
event.listen(
    AuditChainHead.__table__,
    "after_create",
    DDL(  # type: ignore[no-untyped-call]
        "INSERT INTO audit_chain (id, last_id, last_hash) VALUES (1, 0, '" + "0" * 64 + "')"
    ),
)
