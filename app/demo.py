"""Demo data for a first run (``make run``): on an empty database, one organisation of each
kind and their keys, and a ready ``curl`` line that files a report."""

from __future__ import annotations

import json
import shlex

from sqlalchemy import func, select

from app.auth.models import Organisation, OrganisationKind
from app.auth.schemas import OrganisationCreate
from app.auth.service import create_organisation, issue_api_key
from app.db import session_factory

K = OrganisationKind

DEMO_ORGANISATIONS = [
    {"name": "Quản trị hệ thống (demo)", "kind": K.admin},
    {
        "name": "Công ty TNHH Xây dựng Tây Nguyên (demo)",
        "kind": K.enterprise,
        "tax_code": "6000123456",
    },
    {"name": "UBND Huyện Cư M'gar (demo)", "kind": K.district_committee, "district_code": "648"},
    {
        "name": "Công an Thành phố Buôn Ma Thuột (demo)",
        "kind": K.police,
        "district_code": "643",
        "notify_emails": ["congan.bmt@demo.tnld.test"],
    },
    {
        "name": "Công an Huyện Cư M'gar (demo)",
        "kind": K.police,
        "district_code": "648",
        "notify_emails": ["congan.cumgar@demo.tnld.test"],
    },
    {
        "name": "Thanh tra Sở LĐTBXH Đắk Lắk (demo)",
        "kind": K.inspectorate,
        "notify_emails": ["thanhtra@demo.tnld.test"],
    },
]

SAMPLE_REPORT = {
    "category": "labour_accident",
    "occurred_at": "2026-11-20T08:30:00+07:00",
    "district_code": "643",
    "commune": "Phường Tân Lập",
    "address": "Công trường nhà ở, 12 Lê Duẩn",
    "summary": "Sập giàn giáo tầng 4 khi đổ bê tông sàn.",
    "victims": [
        {
            "full_name": "Nguyễn Văn A",
            "gender": "male",
            "birth_year": 1990,
            "occupation": "Thợ xây",
            "national_id": "066090001234",
            "outcome": "dead",
        }
    ],
    "reporter": {"full_name": "Trần Thị B", "position": "Cán bộ ATVSLĐ", "phone": "0912345678"},
}


def seed_demo(*, base_url: str) -> None:
    with session_factory()() as session:
        if session.scalar(select(func.count()).select_from(Organisation)):
            print("tnld demo: the database already has organisations; no demo data added.")
            return
        keys: list[tuple[str, str, str]] = []
        for spec in DEMO_ORGANISATIONS:
            organisation = create_organisation(
                session, actor=None, data=OrganisationCreate.model_validate(spec)
            )
            _, raw_key = issue_api_key(
                session, actor=None, organisation_id=organisation.id, label="demo"
            )
            keys.append((organisation.kind.value, organisation.name, raw_key))

    width = max(len(kind) for kind, _, _ in keys)
    print("\n=== tnld demo organisations (keys are shown only now) ===")
    for kind, name, raw_key in keys:
        print(f"  {kind:<{width}}  {raw_key}  {name}")
    enterprise_key = next(k for kind, _, k in keys if kind == "enterprise")
    body = json.dumps(SAMPLE_REPORT, ensure_ascii=False)
    print("\nFile a report as the enterprise:\n")
    print(
        f"  curl -sS -X POST {base_url}/api/v1/reports "
        f"-H 'Authorization: Bearer {enterprise_key}' "
        "-H 'Content-Type: application/json' -H \"Idempotency-Key: $(date +%s%N)\" "
        f"-d {shlex.quote(body)}\n"
    )
    print(f"API documentation: {base_url}/docs\n")
