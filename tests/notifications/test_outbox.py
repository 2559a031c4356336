"""The transactional outbox: deliveries are written with the report, in its transaction."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select
from sqlalchemy.orm import Session

from app.auth.service import authenticate
from app.db import session_factory
from app.notifications.models import Delivery, NotificationEvent
from app.reports.models import Report
from app.reports.schemas import ReportCreate
from app.reports.service import file_report
from tests.helpers import Org, post_report, report_body, victim
from tests.notifications.conftest import Recipients, deliveries


class CommitFailed(Exception):
    pass


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_report_rolled_back_leaves_no_delivery(enterprise: Org, recipients: Recipients) -> None:
    seen_in_transaction: list[int] = []

    with session_factory()() as session:
        principal = authenticate(session, raw_key=enterprise.key)

        def fail_the_commit_that_writes_deliveries(db: Session) -> None:
            written = count(db, Delivery)
            if written and not seen_in_transaction:
                seen_in_transaction.append(written)
                raise CommitFailed("the database refused the commit")

        event.listen(session, "before_commit", fail_the_commit_that_writes_deliveries)
        with pytest.raises(CommitFailed):
            file_report(
                session,
                principal=principal,
                data=ReportCreate.model_validate(report_body()),
                idempotency_key="rolled-back",
            )

    assert seen_in_transaction == [4]  # police and inspectorate, e-mail and webhook each
    with session_factory()() as session:
        assert count(session, Report) == 0
        assert count(session, NotificationEvent) == 0
        assert count(session, Delivery) == 0


def test_rejected_report_writes_no_delivery(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    response = post_report(
        client, enterprise, report_body(victims=[victim(outcome="seriously_injured")])
    )

    assert response.status_code == 422
    with session_factory()() as session:
        assert count(session, Delivery) == 0


def test_report_and_its_deliveries_commit_together(
    client: TestClient, enterprise: Org, recipients: Recipients
) -> None:
    report = post_report(client, enterprise).json()

    stored = deliveries(report["id"])
    assert len(stored) == 4
    assert {d.event.type for d in stored} == {"report.created"}
    assert stored[0].event.payload == report
