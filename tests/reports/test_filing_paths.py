"""PostgreSQL files a report in one statement (app.reports.single_statement), SQLite and the
fallback in steps: both must write the same rows with the same final values (v2 columns
included: the phone in E.164, the investigation's period and category, the warnings, the place
and its current communes)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import clock
from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.investigations.models import Investigation
from app.reports import filing, rules
from app.reports.models import Report, ReportCommune
from app.reports.schemas import ReportCreate
from tests.helpers import Org, post_report, report_body, victim

#: Differ by construction between two filings.
OWN = {"id", "report_id", "reference", "investigation_id"}


def _columns(row: Any) -> dict[str, Any]:
    return {c.key: getattr(row, c.key) for c in row.__table__.columns if c.key not in OWN}


@pytest.mark.postgres_only
def test_one_statement_and_steps_write_the_same(
    client: TestClient, enterprise: Org, session: Session, frozen_clock: Any
) -> None:
    body = report_body(
        category="technical_incident",
        victims=[victim(outcome="seriously_injured", gender="female")],
        reporter={"full_name": "Trần Thị B", "phone": "0262 3852 123"},
    )
    in_one = post_report(client, enterprise, body)
    assert in_one.status_code == 201, in_one.text

    principal = Principal(
        organisation_id=uuid.UUID(enterprise.id),
        organisation_name=enterprise.name,
        kind=OrganisationKind.enterprise,
        district_code=None,
        api_key_id=None,
    )
    data = ReportCreate.model_validate(body)
    victims = rules.victims_as_stored(data.victims, kind=principal.kind)
    place = rules.check_report(data, principal=principal, now=clock.now(), victims=victims)
    assert place is not None
    in_steps = filing._file_in_steps(
        session,
        filing._Filing(
            principal=principal,
            data=data,
            place=place,
            victims=victims,
            # The body's hash as the HTTP layer gives it (the same bytes as the first filing).
            body_sha256=hashlib.sha256(in_one.request.content).hexdigest(),
        ),
        key=f"steps-{uuid.uuid4()}",
        digest="0" * 64,
    )

    first, second = in_one.json(), in_steps.body
    assert first["warnings"] != []
    assert {k: v for k, v in first.items() if k not in OWN} == {
        k: v for k, v in second.items() if k not in OWN
    }
    session.expire_all()
    reports = [
        session.scalars(select(Report).where(Report.id == uuid.UUID(r["id"]))).one()
        for r in (first, second)
    ]
    assert _columns(reports[0]) == _columns(reports[1])
    assert reports[0].reporter_phone_e164 == "+842623852123"
    investigations = [
        session.scalars(select(Investigation).where(Investigation.report_id == r.id)).one()
        for r in reports
    ]
    assert _columns(investigations[0]) == _columns(investigations[1])
    assert investigations[0].category == "technical_incident"
    communes = [
        list(
            session.scalars(
                select(ReportCommune.commune_code).where(ReportCommune.report_id == r.id)
            )
        )
        for r in reports
    ]
    assert communes[0] == communes[1] == ["24121"]
    assert investigations[0].due_at is not None
