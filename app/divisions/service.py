"""The province's district-level units, loaded from a data file.

Places are data, not code (DOMAIN.md, Places): the 2025 reform abolished districts, and a later
version will route by the accident's date and place, so nothing else hard-codes a district.
"""

from __future__ import annotations

import json
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class Division:
    code: str
    name: str


@lru_cache
def divisions() -> tuple[Division, ...]:
    raw = resources.files("app.divisions").joinpath("data/dak_lak.json").read_text("utf-8")
    data = json.loads(raw)
    return tuple(
        Division(code=d["code"], name=unicodedata.normalize("NFC", d["name"]))
        for d in data["districts"]
    )


@lru_cache
def _by_code() -> dict[str, Division]:
    return {d.code: d for d in divisions()}


def find_division(code: str) -> Division | None:
    return _by_code().get(code)


def division_name(code: str) -> str:
    division = find_division(code)
    return division.name if division else code
