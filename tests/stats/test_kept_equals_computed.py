"""The figures kept at write time (app.stats.kept) equal the figures computed from the rows
(app.stats.service.compute_yearly_stats, the reference) for every year and grouping, after
random filings on both maps, amendments (victims dying, victims added), investigation status
changes and the clock moving (overdue), before and after the changes are folded."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app import clock
from app.auth.models import OrganisationKind
from app.auth.principal import Principal
from app.db import get_engine, session_factory
from app.migrations import alembic_config, upgrade
from app.notifications.worker import Worker
from app.stats import kept
from app.stats.models import FigureChange
from app.stats.service import compute_yearly_stats, yearly_stats
from tests.helpers import API, Org, file_report, idem, move, victim

YEARS = (2024, 2025, 2026)
#: Communes of map 2025 (from 2025-07-01) and districts of map 2024 (before).
COMMUNES = ("24121", "24343", "24280", "22015")
DISTRICTS = ("643", "650", "648")
OUTCOMES = ("dead", "seriously_injured", "minor_injury")
NEXT = {"open": "in_progress", "in_progress": "concluded", "concluded": "closed"}


def _victims(rng: random.Random, category: str) -> list[dict[str, Any]]:
    count = rng.randint(0 if category == "technical_incident" else 1, 3)
    victims = [
        victim(full_name=f"Nạn nhân {i}", national_id=None, outcome=rng.choice(OUTCOMES))
        for i in range(count)
    ]
    outcomes = [v["outcome"] for v in victims]
    if category == "labour_accident" and "dead" not in outcomes:
        # Notifiable: one dead or two seriously injured (Law 84/2015, Art. 34).
        if rng.random() < 0.5:
            victims[0]["outcome"] = "dead"
        else:
            victims[0]["outcome"] = "seriously_injured"
            victims.append(
                victim(full_name="Nạn nhân 9", national_id=None, outcome="seriously_injured")
            )
    return victims


def _file(client: TestClient, enterprise: Org, rng: random.Random) -> dict[str, Any]:
    occurred = datetime.fromisoformat("2024-01-01T00:00:00+07:00") + timedelta(
        minutes=rng.randrange(0, 1050 * 24 * 60)
    )
    occurred = min(occurred, datetime.fromisoformat("2026-11-19T00:00:00+07:00"))
    if rng.random() < 0.1:  # at the turn of a year, Vietnam time
        occurred = datetime.fromisoformat(
            rng.choice(("2025-12-31T23:30:00", "2026-01-01T00:30:00")) + "+07:00"
        )
    category = rng.choice(("labour_accident", "labour_accident", "technical_incident"))
    place: dict[str, Any] = (
        {"commune_code": rng.choice(COMMUNES)}
        if occurred >= datetime.fromisoformat("2025-07-01T00:00:00+07:00")
        else {"district_code": rng.choice(DISTRICTS), "commune_code": None}
    )
    return file_report(
        client,
        enterprise,
        category=category,
        occurred_at=occurred.isoformat(),
        victims=_victims(rng, category),
        **place,
    )


def _amend(client: TestClient, enterprise: Org, report: dict[str, Any], rng: random.Random) -> None:
    victims = [dict(v) for v in report["victims"]]
    injured = [i for i, v in enumerate(victims) if v["outcome"] == "seriously_injured"]
    if injured and rng.random() < 0.6:
        victims[rng.choice(injured)]["outcome"] = "dead"  # died in hospital
    else:
        victims.append(
            victim(full_name="Nạn nhân mới", national_id=None, outcome=rng.choice(OUTCOMES))
        )
    response = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"victims": victims},
        headers={**enterprise.headers, **idem()},
    )
    assert response.status_code == 201, response.text
    report["victims"] = victims


def _advance(client: TestClient, inspectorate: Org, report: dict[str, Any]) -> None:
    investigation_id = report.get("investigation_id")
    if not investigation_id:
        return
    response = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    status = response.json()["status"]
    if status in NEXT:
        move(client, inspectorate, investigation_id, NEXT[status])


def _change(
    client: TestClient,
    enterprise: Org,
    inspectorate: Org,
    reports: list[dict[str, Any]],
    rng: random.Random,
    *,
    times: int,
) -> None:
    """Amend a random report or move its investigation on, ``times`` times."""
    for _ in range(times):
        report = rng.choice(reports)
        if rng.random() < 0.5:
            _amend(client, enterprise, report, rng)
        else:
            _advance(client, inspectorate, report)


def _assert_equal(inspectorate: Org) -> None:
    principal = Principal(
        organisation_id=uuid.UUID(inspectorate.id),
        organisation_name=inspectorate.name,
        kind=OrganisationKind.inspectorate,
        district_code=None,
        api_key_id=None,
    )
    with session_factory()() as session:
        for year in YEARS:
            for by in ("place", "district"):
                reference = compute_yearly_stats(
                    session, principal=principal, year=year, by=by, now=clock.now()
                )
                assert yearly_stats(session, principal=principal, year=year, by=by) == reference
                session.rollback()


def _unfolded() -> int:
    with session_factory()() as session:
        return int(session.scalar(select(func.count()).select_from(FigureChange)) or 0)


def test_kept_figures_equal_the_computed_ones(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    rng = random.Random(14)
    reports = [_file(client, enterprise, rng) for _ in range(30)]
    assert _unfolded() > 0
    _assert_equal(inspectorate)
    _change(client, enterprise, inspectorate, reports, rng, times=25)
    _assert_equal(inspectorate)

    with get_engine().begin() as connection:
        assert kept.fold(connection)
    assert _unfolded() == 0
    _assert_equal(inspectorate)

    # After the fold: base rows and new changes together, and overdue as the clock moves.
    reports += [_file(client, enterprise, rng) for _ in range(10)]
    _change(client, enterprise, inspectorate, reports, rng, times=15)
    _assert_equal(inspectorate)
    clock.advance(timedelta(days=90))
    _assert_equal(inspectorate)


def test_the_migration_counts_the_existing_rows(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    """Rows written before migration 0012 (here: before it is applied again) are counted by the
    migration itself: no change rows, base rows equal to the computed figures."""
    rng = random.Random(11)
    reports = [_file(client, enterprise, rng) for _ in range(20)]
    for report in reports[:10]:
        _advance(client, inspectorate, report)
    _amend(client, enterprise, reports[10], rng)
    command.downgrade(alembic_config(), "0011")
    upgrade()
    assert _unfolded() == 0
    _assert_equal(inspectorate)


def test_a_read_that_finds_many_unfolded_changes_folds_them(
    client: TestClient,
    enterprise: Org,
    inspectorate: Org,
    frozen_clock: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(kept, "FOLD_AFTER", 3)
    rng = random.Random(3)
    for _ in range(5):
        file_report(client, enterprise, victims=_victims(rng, "labour_accident"))
    assert _unfolded() >= 3
    before = client.get(f"{API}/stats?year=2026", headers=inspectorate.headers)
    assert before.status_code == 200
    assert _unfolded() == 0
    after = client.get(f"{API}/stats?year=2026", headers=inspectorate.headers)
    assert after.json() == before.json()
    assert after.json()["total"]["reports"] == 5
    _assert_equal(inspectorate)


def test_the_worker_folds_the_changes_between_reads(
    client: TestClient, enterprise: Org, inspectorate: Org, frozen_clock: Any
) -> None:
    """The delivery worker's housekeeping folds what filings appended, so changes do not pile
    up while nobody reads the statistics; with nothing to fold it takes no write transaction."""
    rng = random.Random(5)
    for _ in range(4):
        file_report(client, enterprise, victims=_victims(rng, "labour_accident"))
    assert _unfolded() > 0
    worker = Worker()
    assert worker.fold_figures()
    assert _unfolded() == 0
    assert not worker.fold_figures()
    _assert_equal(inspectorate)
