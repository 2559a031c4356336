"""End to end: a seriously injured worker dies; the amendment makes the accident fatal, the
investigation's deadline moves to 30 days from the original receipt, and the recipients'
real webhook receiver gets a signed report.amended notification saying what changed."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from app.investigations import periods
from tests.helpers import API, Org, file_report, idem, investigation_of, serious_victims
from tests.notifications.conftest import Receiver, Recipients, drain


def test_amend_to_fatal_recomputes_due_at_and_notifies_a_real_receiver(
    client: TestClient, enterprise: Org, recipients: Recipients, receiver: Receiver
) -> None:
    report = file_report(client, enterprise, victims=serious_victims(2))
    received_at = datetime.fromisoformat(report["received_at"])
    inspector = recipients.inspectorate
    before = investigation_of(client, inspector, report)
    assert datetime.fromisoformat(before["due_at"]) == periods.due_at(
        received_at=received_at, days=20
    )

    victims = [dict(v) for v in report["victims"]]
    victims[1]["outcome"] = "dead"
    amended = client.post(
        f"{API}/reports/{report['id']}/amendments",
        json={"victims": victims, "note": "Nạn nhân tử vong tại bệnh viện"},
        headers={**enterprise.headers, **idem()},
    )
    assert amended.status_code == 201, amended.text

    after = investigation_of(client, inspector, report)
    assert after["severity"] == "fatal"
    assert datetime.fromisoformat(after["due_at"]) == periods.due_at(
        received_at=received_at, days=30
    )
    current = client.get(f"{API}/reports/{report['id']}", headers=enterprise.headers).json()
    assert current["received_at"] == report["received_at"]

    drain()

    for path, org in (("/police", recipients.police), ("/inspectorate", inspector)):
        hooks = [
            Webhook(org.data["webhook_secret"]).verify(hook.body, hook.headers)
            for hook in receiver.at(path)
        ]
        assert sorted(h["type"] for h in hooks) == ["report.amended", "report.created"]
        [notice] = [h for h in hooks if h["type"] == "report.amended"]
        amendment = notice["data"].pop("amendment")
        assert notice["data"] == current
        assert amendment["version"] == 2
        assert {"field": "/victims/1/outcome", "from": "seriously_injured", "to": "dead"} in (
            amendment["changes"]
        )
        assert {"field": "/severity", "from": "serious", "to": "fatal"} in amendment["changes"]
    delivered = client.get(
        f"{API}/reports/{report['id']}/notifications", headers=inspector.headers
    ).json()
    assert {d["status"] for d in delivered} == {"delivered"}
