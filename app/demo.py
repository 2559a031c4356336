"""Demo data for a first run (``make run``): on an empty database, one organisation of each
kind with a key and one person (web login) each, and a ready ``curl`` line that files a
report."""

from __future__ import annotations

import json
import shlex

from sqlalchemy import func, select

from app.auth.models import Organisation, OrganisationKind
from app.auth.schemas import OrganisationCreate
from app.auth.service import create_organisation, issue_api_key
from app.db import session_factory
from app.people.service import create_user, generate_password

K = OrganisationKind

#: Today's bodies (map 2025): Sở Nội vụ is the provincial labour authority since 1 March 2025
#: (Decree 25/2025/NĐ-CP); district police ended that day and districts on 1 July 2025.
DEMO_ORGANISATIONS = [
    {"name": "Quản trị hệ thống (demo)", "kind": K.admin},
    {
        "name": "Công ty TNHH Xây dựng Tây Nguyên (demo)",
        "kind": K.enterprise,
        "tax_code": "6000123456",
    },
    {
        "name": "UBND phường Tân Lập (demo)",
        "kind": K.commune_committee,
        "commune_code": "24121",
        "notify_emails": ["ubnd.tanlap@demo.tnld.test"],
    },
    {
        "name": "Công an phường Tân Lập (demo)",
        "kind": K.police,
        "commune_code": "24121",
        "notify_emails": ["congan.tanlap@demo.tnld.test"],
    },
    {
        "name": "Công an tỉnh Đắk Lắk (demo)",
        "kind": K.police,
        "province_code": "66",
        "notify_emails": ["congan.daklak@demo.tnld.test"],
    },
    {
        "name": "Sở Nội vụ tỉnh Đắk Lắk (demo)",
        "kind": K.inspectorate,
        "notify_emails": ["sonoivu@demo.tnld.test"],
    },
]

#: The start of each demo person's e-mail address.
DEMO_LOGINS = {
    K.admin: "quantri",
    K.enterprise: "doanhnghiep",
    K.commune_committee: "ubndxa",
    K.district_committee: "ubndhuyen",
    K.police: "congan",
    K.inspectorate: "sonoivu",
}

#: A 2026 accident in a commune of map 2025 (24121 Phường Tân Lập, Tỉnh Đắk Lắk).
SAMPLE_REPORT = {
    "category": "labour_accident",
    "occurred_at": "2026-11-20T08:30:00+07:00",
    "commune_code": "24121",
    "commune": "Tổ dân phố 5",
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
        people: list[tuple[str, str, str]] = []
        for number, spec in enumerate(DEMO_ORGANISATIONS, start=1):
            organisation = create_organisation(
                session, actor=None, data=OrganisationCreate.model_validate(spec)
            )
            _, raw_key = issue_api_key(
                session, actor=None, organisation_id=organisation.id, label="demo"
            )
            keys.append((organisation.kind.value, organisation.name, raw_key))
            email = f"{DEMO_LOGINS[organisation.kind]}{number}@demo.tnld.test"
            password = generate_password()
            create_user(
                session,
                actor=None,
                organisation_id=organisation.id,
                email=email,
                full_name=f"Người dùng demo {number}",
                password=password,
            )
            people.append((email, password, organisation.name))

    width = max(len(kind) for kind, _, _ in keys)
    print("\n=== tnld demo organisations (keys are shown only now) ===")
    for kind, name, raw_key in keys:
        print(f"  {kind:<{width}}  {raw_key}  {name}")
    print(f"\n=== People: log in at {base_url}/dang-nhap (passwords are shown only now) ===")
    email_width = max(len(email) for email, _, _ in people)
    for email, password, name in people:
        print(f"  {email:<{email_width}}  {password}  {name}")
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
