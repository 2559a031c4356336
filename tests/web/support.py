"""The report form's answers as a person types them."""

from __future__ import annotations

from typing import Any

FATAL_ANSWERS: dict[str, str] = {
    "category": "labour_accident",
    "occurred_date": "20/11/2026",
    "occurred_time": "08:30",
    "commune_code": "24121",
    "district_code": "",
    "commune": "Tổ dân phố 5",
    "address": "Công trường nhà ở, 12 Lê Duẩn",
    "summary": "Sập giàn giáo tầng 4 khi đổ bê tông sàn.",
    "initial_cause": "Giàn giáo không được neo giữ",
    "measures_taken": "Dừng thi công",
    "employer_name": "Công ty TNHH Xây dựng Tây Nguyên",
    "victims-0-full_name": "Nguyễn Văn A",
    "victims-0-gender": "male",
    "victims-0-birth_year": "1990",
    "victims-0-occupation": "Thợ xây",
    "victims-0-national_id": "066090001234",
    "victims-0-employment": "labour_contract",
    "victims-0-outcome": "dead",
    "victims-0-injury": "",
    "reporter-full_name": "Trần Thị B",
    "reporter-position": "Cán bộ ATVSLĐ",
    "reporter-phone": "0912345678",
    "reporter-email": "b@example.vn",
}


def answers(**changes: Any) -> dict[str, str]:
    return {**FATAL_ANSWERS, **{k.replace("__", "-"): v for k, v in changes.items()}}
