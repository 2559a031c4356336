"""ETag and If-Match: optimistic concurrency for investigations."""

from __future__ import annotations

import threading

import httpx
from fastapi.testclient import TestClient

from tests.helpers import API, Org, file_report, patch


def _fresh(client: TestClient, enterprise: Org, inspectorate: Org) -> tuple[str, str]:
    investigation_id = str(file_report(client, enterprise)["investigation_id"])
    response = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    return investigation_id, response.headers["ETag"]


def test_get_carries_a_strong_etag(client: TestClient, enterprise: Org, inspectorate: Org) -> None:
    _, etag = _fresh(client, enterprise, inspectorate)
    assert etag.startswith('"')
    assert etag.endswith('"')


def test_patch_with_current_etag_succeeds_and_returns_a_new_one(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id, etag = _fresh(client, enterprise, inspectorate)
    response = patch(
        client, inspectorate, investigation_id, {"status": "in_progress"}, **{"If-Match": etag}
    )
    assert response.status_code == 200, response.text
    assert response.headers["ETag"] != etag
    again = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert again.headers["ETag"] == response.headers["ETag"]


def test_patch_with_stale_etag_is_412_and_changes_nothing(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id, stale = _fresh(client, enterprise, inspectorate)
    patch(client, inspectorate, investigation_id, {"lead_inspector": "Lê Văn C"})
    response = patch(
        client, inspectorate, investigation_id, {"status": "in_progress"}, **{"If-Match": stale}
    )
    assert response.status_code == 412
    assert response.headers["content-type"] == "application/problem+json"
    current = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert current.json()["status"] == "open"


def test_weak_etag_never_matches(client: TestClient, enterprise: Org, inspectorate: Org) -> None:
    investigation_id, etag = _fresh(client, enterprise, inspectorate)
    response = patch(
        client,
        inspectorate,
        investigation_id,
        {"status": "in_progress"},
        **{"If-Match": f"W/{etag}"},
    )
    assert response.status_code == 412


def test_if_match_star_matches_any_version(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id, _ = _fresh(client, enterprise, inspectorate)
    response = patch(
        client, inspectorate, investigation_id, {"status": "in_progress"}, **{"If-Match": "*"}
    )
    assert response.status_code == 200


def test_if_match_list_containing_the_current_etag_matches(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id, etag = _fresh(client, enterprise, inspectorate)
    response = patch(
        client,
        inspectorate,
        investigation_id,
        {"status": "in_progress"},
        **{"If-Match": f'"999", {etag}'},
    )
    assert response.status_code == 200


def test_stale_etag_on_extension_is_412(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    investigation_id, stale = _fresh(client, enterprise, inspectorate)
    patch(client, inspectorate, investigation_id, {"assessment_required": True})
    response = client.post(
        f"{API}/investigations/{investigation_id}/extension",
        json={"reason": "Gia hạn", "approved_by": "Giám đốc Sở Nội vụ"},
        headers={**inspectorate.headers, "If-Match": stale},
    )
    assert response.status_code == 412


def test_amendment_that_changes_severity_changes_the_etag(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    from tests.helpers import idem, serious_victims, victim

    report = file_report(client, enterprise, victims=serious_victims(2))
    investigation_id = report["investigation_id"]
    etag = client.get(
        f"{API}/investigations/{investigation_id}", headers=inspectorate.headers
    ).headers["ETag"]
    victims = serious_victims(2)
    victims[0] = victim(**{**victims[0], "outcome": "dead"})
    amended = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"victims": victims},
        headers={**enterprise.headers, **idem()},
    )
    assert amended.status_code == 201, amended.text
    response = patch(
        client, inspectorate, investigation_id, {"status": "in_progress"}, **{"If-Match": etag}
    )
    assert response.status_code == 412


def test_concurrent_patches_with_the_same_etag_let_exactly_one_through(
    client: TestClient, enterprise: Org, inspectorate: Org, live_server: str
) -> None:
    investigation_id, etag = _fresh(client, enterprise, inspectorate)
    writers = 6
    barrier = threading.Barrier(writers)
    statuses: list[int] = []
    lock = threading.Lock()

    def write(index: int) -> None:
        with httpx.Client(base_url=live_server, timeout=30) as http:
            barrier.wait()
            response = http.patch(
                f"{API}/investigations/{investigation_id}",
                json={"lead_inspector": f"Thanh tra viên {index}"},
                headers={**inspectorate.headers, "If-Match": etag},
            )
            with lock:
                statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(statuses) == [200] + [412] * (writers - 1)
    final = client.get(f"{API}/investigations/{investigation_id}", headers=inspectorate.headers)
    assert final.headers["ETag"] != etag
