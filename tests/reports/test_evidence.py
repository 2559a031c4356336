"""Evidence: the SHA-256 of the exact bytes of each accepted request body, per version
(Security and privacy)."""

from __future__ import annotations

import hashlib
import json

from fastapi.testclient import TestClient

from tests.assertions import assert_problem
from tests.helpers import Org, idem, report_body


def _post(client: TestClient, org: Org, path: str, raw: bytes) -> dict[str, object]:
    response = client.post(
        path,
        content=raw,
        headers={**org.headers, **idem(), "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    result: dict[str, object] = response.json()
    return result


def test_evidence_holds_the_hash_of_each_body_as_sent(
    client: TestClient, enterprise: Org, inspectorate: Org
) -> None:
    # Bytes as a client would send them: spacing and key order of its own.
    filed = json.dumps(report_body(), ensure_ascii=False, indent=1).encode()
    report = _post(client, enterprise, "/api/v1/reports", filed)
    amended = b'{ "summary": "S\\u1eadp gi\\u00e0n gi\\u00e1o t\\u1ea7ng 4 v\\u00e0 5." }'
    _post(client, enterprise, f"/api/v1/reports/{report['id']}/amendments", amended)

    for reader in (enterprise, inspectorate):
        response = client.get(f"/api/v1/reports/{report['id']}/evidence", headers=reader.headers)
        assert response.status_code == 200, response.text
        evidence = response.json()
        assert evidence["report_id"] == report["id"]
        assert [v["version"] for v in evidence["versions"]] == [1, 2]
        assert [v["body_sha256"] for v in evidence["versions"]] == [
            hashlib.sha256(filed).hexdigest(),
            hashlib.sha256(amended).hexdigest(),
        ]
        assert evidence["versions"][0]["received_at"] == report["received_at"]
        assert all(v["api_key_id"] for v in evidence["versions"])


def test_evidence_of_a_report_never_amended(client: TestClient, enterprise: Org) -> None:
    raw = json.dumps(report_body()).encode()
    report = _post(client, enterprise, "/api/v1/reports", raw)
    evidence = client.get(f"/api/v1/reports/{report['id']}/evidence", headers=enterprise.headers)
    [version] = evidence.json()["versions"]
    assert version["body_sha256"] == hashlib.sha256(raw).hexdigest()


def test_police_may_read_the_report_but_not_its_evidence(
    client: TestClient, enterprise: Org, police: Org
) -> None:
    report = _post(client, enterprise, "/api/v1/reports", json.dumps(report_body()).encode())
    assert client.get(f"/api/v1/reports/{report['id']}", headers=police.headers).is_success
    response = client.get(f"/api/v1/reports/{report['id']}/evidence", headers=police.headers)
    assert_problem(response, 403)
