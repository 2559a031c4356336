"""Generate app/divisions/data/*.json: both maps of Đắk Lắk (and the former Phú Yên) as dated data.

A development tool, not part of the service. Run it in a scratch environment:

    python -m venv /tmp/vau && /tmp/vau/bin/pip install 'vietnamadminunits==1.0.4'
    /tmp/vau/bin/python scripts/generate_divisions.py

It reads only the package's bundled data (``data/dataset.db``, an SQLite file, and
``data/converter_2025.json``, the old-to-new crosswalk); it never calls ``convert_address``, which
geocodes a street online. The package is MIT-licensed; its codes agree with the official list
(Cục Thống kê letter 1027/CTK-CSCL; Resolution 1660/NQ-UBTVQH15), and the facts the service
relies on are pinned in tests/divisions/test_data.py.

One file per map and province: ``<first year>-<province code>-<slug>.json``. A file holds every
unit of that province in that map (the province, its districts, its communes), each with its
code, name, unit type, level, parent and, for the 2024 map, the 2025 communes that took over any
part of its area (``successors``). Adding a province is adding its files: the service needs no
code change.
"""

from __future__ import annotations

import importlib.util
import json
import sqlite3
import sys
import unicodedata
from pathlib import Path
from typing import Any

PACKAGE = "vietnamadminunits"
PACKAGE_VERSION = "1.0.4"
OUT = Path(__file__).resolve().parent.parent / "app" / "divisions" / "data"

SOURCES = [
    f"{PACKAGE} {PACKAGE_VERSION} (MIT licence): data/dataset.db tables admin_units_legacy "
    "(map 2024) and admin_units (map 2025); data/converter_2025.json (old commune to new "
    "commune crosswalk)",
    "Cục Thống kê, công văn 1027/CTK-CSCL (2025): danh mục và mã số đơn vị hành chính mới",
    "Nghị quyết 1660/NQ-UBTVQH15 (16/6/2025) về việc sắp xếp các đơn vị hành chính cấp xã "
    "của tỉnh Đắk Lắk năm 2025",
    "Nghị quyết 202/2025/QH15 (12/6/2025) về việc sắp xếp đơn vị hành chính cấp tỉnh",
]

#: (first day, last day) of each map; None where it is before the data begins or still in force.
MAP_2024 = (None, "2025-06-30")
MAP_2025 = ("2025-07-01", None)

#: Spelling differences from the official list (Cục Thống kê 1027/CTK-CSCL).
NAME_CORRECTIONS = {"Xã Ea BHốk": "Xã Ea Bhốk"}

#: province code -> (slug, package key) for the old provinces and the new one.
OLD_PROVINCES = {"66": ("dak-lak", "tinhdaklak"), "54": ("phu-yen", "tinhphuyen")}
NEW_PROVINCES = {"66": ("dak-lak", "tinhdaklak")}


def _nfc(name: str) -> str:
    name = unicodedata.normalize("NFC", name.strip())
    return NAME_CORRECTIONS.get(name, name)


def _named(name: str, type_: str) -> tuple[str, str]:
    """The name with its unit type spelt as the type is ("Thị Xã Buôn Hồ" -> "Thị xã Buôn Hồ")."""
    name, type_ = _nfc(name), _nfc(type_)
    if not name.lower().startswith(type_.lower() + " "):
        raise SystemExit(f"{name!r} does not start with its unit type {type_!r}")
    return type_ + name[len(type_) :], type_


def _province_type(name: str) -> str:
    return "Thành phố" if name.startswith("Thành phố ") else "Tỉnh"


def _package_data() -> Path:
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or spec.origin is None:
        raise SystemExit(f"pip install '{PACKAGE}=={PACKAGE_VERSION}' first (see the docstring)")
    return Path(spec.origin).parent / "data"


def _crosswalk(data: Path, new_codes: dict[str, str]) -> dict[str, list[str]]:
    """Old commune key (``province_district_ward``) -> the 2025 commune codes over its area."""
    converter = json.loads((data / "converter_2025.json").read_text("utf-8"))
    successors: dict[str, set[str]] = {}
    for province_key in {key for _, key in NEW_PROVINCES.values()}:
        whole = converter["DICT_PROVINCE_WARD_NO_DIVIDED"][province_key]
        for new_key, old_keys in whole.items():
            for old_key in old_keys:
                successors.setdefault(old_key, set()).add(new_codes[new_key])
        split = converter["DICT_PROVINCE_WARD_DIVIDED"].get(province_key, {})
        for old_key, parts in split.items():
            for part in parts:
                successors.setdefault(old_key, set()).add(new_codes[part["newWardKey"]])
    return {key: sorted(codes) for key, codes in successors.items()}


def _write(name: str, valid: tuple[str | None, str | None], units: list[dict[str, Any]]) -> None:
    document = {
        "map": name.split("-")[0],
        "sources": SOURCES,
        "generated_by": "scripts/generate_divisions.py",
        "valid_from": valid[0],
        "valid_to": valid[1],
        "units": units,
    }
    path = OUT / name
    # One unit a line: the files diff and review line by line.
    head = json.dumps(
        {k: v for k, v in document.items() if k != "units"}, ensure_ascii=False, indent=1
    )
    lines = [json.dumps(unit, ensure_ascii=False) for unit in units]
    text = head[:-2] + ',\n "units": [\n  ' + ",\n  ".join(lines) + "\n ]\n}\n"
    json.loads(text)
    path.write_text(text, "utf-8")
    print(f"{path.relative_to(OUT.parent.parent.parent)}: {len(units)} units")


def main() -> None:
    data = _package_data()
    db = sqlite3.connect(data / "dataset.db")
    OUT.mkdir(parents=True, exist_ok=True)

    new_codes: dict[str, str] = {}
    for code, (slug, _) in NEW_PROVINCES.items():
        rows = db.execute(
            "SELECT province, ward, wardType, wardCode, wardKey FROM admin_units "
            "WHERE provinceCode = ? ORDER BY wardCode",
            (code,),
        ).fetchall()
        province_name = _nfc(rows[0][0])
        units: list[dict[str, Any]] = [
            {
                "code": code,
                "name": province_name,
                "type": _province_type(province_name),
                "level": "province",
                "parent_code": None,
                "successors": [],
            }
        ]
        for _, ward, ward_type, ward_code, ward_key in rows:
            new_codes[ward_key] = ward_code
            name, type_ = _named(ward, ward_type)
            units.append(
                {
                    "code": ward_code,
                    "name": name,
                    "type": type_,
                    "level": "commune",
                    "parent_code": code,
                    "successors": [],
                }
            )
        _write(f"2025-{code}-{slug}.json", MAP_2025, units)

    successors = _crosswalk(data, new_codes)
    for code, (slug, _) in OLD_PROVINCES.items():
        rows = db.execute(
            "SELECT province, district, districtType, districtCode, ward, wardType, wardCode, "
            "provinceKey, districtKey, wardKey FROM admin_units_legacy "
            "WHERE provinceCode = ? AND wardCode IS NOT NULL AND wardCode != '' "
            "ORDER BY districtCode, wardCode",
            (code,),
        ).fetchall()
        province_name = _nfc(rows[0][0])
        districts: dict[str, dict[str, Any]] = {}
        communes: list[dict[str, Any]] = []
        for (_, district, district_type, district_code, ward, ward_type, ward_code,
             province_key, district_key, ward_key) in rows:  # fmt: skip
            old_key = f"{province_key}_{district_key}_{ward_key}"
            if old_key not in successors:
                raise SystemExit(f"no successor for {ward_code} {ward}")
            if district_code not in districts:
                name, type_ = _named(district, district_type)
                districts[district_code] = {
                    "code": district_code,
                    "name": name,
                    "type": type_,
                    "level": "district",
                    "parent_code": code,
                    "successors": set(),
                }
            districts[district_code]["successors"].update(successors[old_key])
            name, type_ = _named(ward, ward_type)
            communes.append(
                {
                    "code": ward_code,
                    "name": name,
                    "type": type_,
                    "level": "commune",
                    "parent_code": district_code,
                    "successors": successors[old_key],
                }
            )
        province_successors = sorted({c for d in districts.values() for c in d["successors"]})
        units = [
            {
                "code": code,
                "name": province_name,
                "type": _province_type(province_name),
                "level": "province",
                "parent_code": None,
                "successors": province_successors,
            }
        ]
        units += [{**d, "successors": sorted(d["successors"])} for d in districts.values()]
        units += communes
        _write(f"2024-{code}-{slug}.json", MAP_2024, units)


if __name__ == "__main__":
    sys.exit(main())
