"""The places data: both maps' facts as the official list gives them (Resolution
1660/NQ-UBTVQH15; Cục Thống kê letter 1027/CTK-CSCL), and a province is data only."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

from app.divisions.service import MAP_FILES, divisions, load_folder

BEFORE = date(2025, 6, 30)
AFTER = date(2025, 7, 1)


def _units(on: date, province: str, level: str) -> list[str]:
    data = divisions()
    codes = []
    for unit in data.in_force(on):
        if unit.level != level:
            continue
        top = data.province_of(unit)
        if top.code == province:
            codes.append(unit.code)
    return codes


def test_dak_lak_2024_has_15_districts_and_180_communes() -> None:
    assert sorted(_units(BEFORE, "66", "district")) == [str(c) for c in range(643, 658)]
    assert len(_units(BEFORE, "66", "commune")) == 180


def test_phu_yen_2024_has_9_districts_and_106_communes() -> None:
    assert sorted(_units(BEFORE, "54", "district")) == ["555", *map(str, range(557, 565))]
    assert len(_units(BEFORE, "54", "commune")) == 106


def test_dak_lak_2025_has_102_communes_88_xa_and_14_phuong() -> None:
    data = divisions()
    communes = [u for u in data.in_force(AFTER) if u.level == "commune"]
    assert len(communes) == 102
    assert Counter(u.type for u in communes) == {"Xã": 88, "Phường": 14}
    assert {u.parent_code for u in communes} == {"66"}
    assert not [u for u in data.in_force(AFTER) if u.level == "district"]
    assert [u.code for u in data.in_force(AFTER) if u.level == "province"] == ["66"]


def test_24121_is_tan_hoa_in_2024_and_tan_lap_in_2025() -> None:
    data = divisions()
    old = data.find("24121", on=BEFORE)
    new = data.find("24121", on=AFTER)
    assert old is not None
    assert new is not None
    assert (old.name, old.parent_code, old.valid_to) == ("Phường Tân Hòa", "643", BEFORE)
    assert (new.name, new.parent_code, new.valid_from) == ("Phường Tân Lập", "66", AFTER)
    assert data.full_name(old) == "Phường Tân Hòa, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"
    assert data.full_name(new) == "Phường Tân Lập, Tỉnh Đắk Lắk"
    assert new.in_sentence == "phường Tân Lập"


def test_24118_is_retired_and_succeeded_by_24121() -> None:
    data = divisions()
    old = data.find("24118", on=BEFORE)
    assert old is not None
    assert old.name == "Phường Tân Lập"
    assert data.find("24118", on=AFTER) is None
    assert old.successors == ("24121",)


def test_ea_bhok_24550_was_split_between_two_new_units() -> None:
    ea_bhok = divisions().find("24550", on=BEFORE)
    assert ea_bhok is not None
    assert ea_bhok.name == "Xã Ea Bhốk"
    assert len(ea_bhok.successors) == 2


def test_eight_old_communes_were_split() -> None:
    split = [u for u in divisions().in_force(BEFORE) if u.level == "commune"]
    assert len([u for u in split if len(u.successors) > 1]) == 8


def test_every_old_commune_has_a_successor_in_the_2025_map() -> None:
    data = divisions()
    new = {u.code for u in data.in_force(AFTER) if u.level == "commune"}
    for unit in data.in_force(BEFORE):
        if unit.level == "commune":
            assert unit.successors, unit.code
            assert set(unit.successors) <= new, unit.code


def test_two_new_wards_span_several_old_districts() -> None:
    data = divisions()
    spanning = {
        u.code: sorted(d.code for d in data.successor_of(u.code, level="district"))
        for u in data.in_force(AFTER)
        if u.level == "commune" and len(data.successor_of(u.code, level="district")) > 1
    }
    assert spanning == {"22015": ["555", "563"], "22240": ["555", "562", "564"]}


def test_codes_reported_wrong_elsewhere_are_right_here() -> None:
    """vietnam-provinces 2025.x has 22066, 22306, 24481 from the draft list (DOMAIN.md)."""
    data = divisions()
    for right, wrong in (("22060", "22066"), ("22303", "22306"), ("24472", "24481")):
        assert data.find(right, on=AFTER, level="commune") is not None
        assert data.find(wrong, on=AFTER, level="commune") is None


def test_data_files_cite_their_sources() -> None:
    folder = Path(__file__).resolve().parents[2] / "app" / "divisions" / "data"
    for path in folder.glob(MAP_FILES):
        sources = " ".join(json.loads(path.read_text("utf-8"))["sources"])
        for source in ("vietnamadminunits 1.0.4", "1027/CTK-CSCL", "1660/NQ-UBTVQH15"):
            assert source in sources, (path.name, source)


def test_a_second_province_is_only_data(tmp_path: Path) -> None:
    """A made-up province loads from its own files, beside the real ones, with no code."""
    real = Path(__file__).resolve().parents[2] / "app" / "divisions" / "data"
    for path in real.glob(MAP_FILES):
        (tmp_path / path.name).write_text(path.read_text("utf-8"), "utf-8")
    made_up = {
        "map": "2025",
        "sources": ["made up for a test"],
        "valid_from": "2025-07-01",
        "valid_to": None,
        "units": [
            {"code": "99", "name": "Tỉnh Thử", "type": "Tỉnh", "level": "province",
             "parent_code": None, "successors": []},
            {"code": "99001", "name": "Xã Một", "type": "Xã", "level": "commune",
             "parent_code": "99", "successors": []},
        ],
    }  # fmt: skip
    (tmp_path / "2025-99-thu.json").write_text(json.dumps(made_up, ensure_ascii=False), "utf-8")

    data = load_folder(tmp_path)

    commune = data.find("99001", on=date(2026, 1, 1))
    assert commune is not None
    assert data.full_name(commune) == "Xã Một, Tỉnh Thử"
    assert data.current_communes(commune) == ("99001",)
    assert data.find("24121", on=date(2026, 1, 1)) is not None
    assert len([u for u in data.in_force(AFTER) if u.level == "commune"]) == 103
