"""The transactional outbox: deliveries are written with the report, in its transaction."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event, func, select, text
from sqlalchemy.orm import Session

from app.auth.service import authenticate
from app.db import get_engine, session_factory
from app.notifications.models import Delivery, NotificationEvent
from app.reports.filing import file_report
from app.reports.models import Report
from app.reports.schemas import ReportCreate
from tests.conftest import IS_POSTGRES
from tests.helpers import Org, post_report, report_body, victim
from tests.notifications.conftest import Recipients, deliveries


class CommitFailed(Exception):
    pass


def count(session: Session, model: Any) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _assert_nothing_stored() -> None:
    with session_factory()() as session:
        assert count(session, Report) == 0
        assert count(session, NotificationEvent) == 0
        assert count(session, Delivery) == 0


@pytest.mark.skipif(IS_POSTGRES, reason="PostgreSQL commits in the filing's statement (below)")
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
    _assert_nothing_stored()


@pytest.mark.postgres_only
def test_report_whose_commit_is_refused_leaves_no_delivery(
    enterprise: Org, recipients: Recipients
) -> None:
    # The filing commits in its own statement's round trip (app.reports.single_statement), so
    # the refusal comes from the database at COMMIT: a deferred constraint trigger that fails,
    # after counting the deliveries the transaction wrote.
    with get_engine().begin() as connection:
        connection.execute(
            text(
                "CREATE FUNCTION refuse_commit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'refused with % deliveries', (SELECT count(*) FROM deliveries); "
                "END $$"
            )
        )
        connection.execute(
            text(
                "CREATE CONSTRAINT TRIGGER refuse_commit AFTER INSERT ON reports "
                "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION refuse_commit()"
            )
        )
    try:
        with session_factory()() as session:
            principal = authenticate(session, raw_key=enterprise.key)
            with pytest.raises(psycopg.errors.RaiseException, match="refused with 4 deliveries"):
                file_report(
                    session,
                    principal=principal,
                    data=ReportCreate.model_validate(report_body()),
                    idempotency_key="rolled-back",
                )
    finally:
        with get_engine().begin() as connection:
            connection.execute(text("DROP TRIGGER refuse_commit ON reports"))
            connection.execute(text("DROP FUNCTION refuse_commit()"))
    _assert_nothing_stored()


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
