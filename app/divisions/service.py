"""Places as dated data: both administrative maps, loaded from the files in ``data/``.

Vietnam's map changed on 1 July 2025 (Resolution 1660/NQ-UBTVQH15 Art. 2: districts abolished;
Resolution 202/2025/QH15: Đắk Lắk and Phú Yên merged as tỉnh Đắk Lắk). Codes were reused for
other areas (24121 was Phường Tân Hòa and is now Phường Tân Lập), so a unit is a code *and* its
validity: every lookup here takes the date. Nothing else in the service hard-codes a place: a
province is its data files (``<first year>-<province>-<slug>.json``, written by
scripts/generate_divisions.py), and adding one needs no code change.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Literal

Level = Literal["province", "district", "commune"]


@dataclass(frozen=True)
class Unit:
    """One administrative unit as it stood between ``valid_from`` and ``valid_to`` (inclusive;
    None where it is before the data begins, or still in force)."""

    code: str
    name: str
    #: The map the unit belongs to, named by its first year ("2024", "2025").
    map: str
    #: The unit type as it begins the name ("Phường", "Thành phố", "Tỉnh"...).
    type: str
    level: Level
    parent_code: str | None
    valid_from: date | None
    valid_to: date | None
    #: For a unit of an earlier map: the communes of the later map over any part of its area.
    successors: tuple[str, ...]

    def in_force(self, on: date) -> bool:
        return (self.valid_from is None or self.valid_from <= on) and (
            self.valid_to is None or on <= self.valid_to
        )

    @property
    def in_sentence(self) -> str:
        """The name inside a sentence, its unit type in lower case: "phường Tân Lập"."""
        return self.type.lower() + self.name[len(self.type) :]


@dataclass(frozen=True)
class Divisions:
    """Every unit of every map loaded; lookups always by (code, date)."""

    units: tuple[Unit, ...]
    sources: tuple[str, ...] = field(default=())

    @cached_property
    def _by_code(self) -> dict[str, tuple[Unit, ...]]:
        index: dict[str, list[Unit]] = {}
        for unit in self.units:
            index.setdefault(unit.code, []).append(unit)
        return {code: tuple(units) for code, units in index.items()}

    def find(self, code: str, *, on: date, level: Level | None = None) -> Unit | None:
        """The unit with this code in force on that date (of that level), if any."""
        for unit in self._by_code.get(code, ()):
            if unit.in_force(on) and (level is None or unit.level == level):
                return unit
        return None

    def latest(self, code: str, *, level: Level | None = None) -> Unit | None:
        """The unit with this code in the latest map (still in force), if any."""
        for unit in self._by_code.get(code, ()):
            if unit.valid_to is None and (level is None or unit.level == level):
                return unit
        return None

    def versions(self, code: str, *, level: Level | None = None) -> tuple[Unit, ...]:
        """Every unit that has had this code, oldest first."""
        units = self._by_code.get(code, ())
        return tuple(
            sorted(
                (u for u in units if level is None or u.level == level),
                key=lambda u: u.valid_from or date.min,
            )
        )

    def in_force(self, on: date) -> list[Unit]:
        return [unit for unit in self.units if unit.in_force(on)]

    @cached_property
    def _district_periods(self) -> frozenset[tuple[date | None, date | None]]:
        return frozenset((u.valid_from, u.valid_to) for u in self.units if u.level == "district")

    def has_districts(self, on: date) -> bool:
        """Whether the map in force that day has a district level (until 2025-06-30). Asked on
        every filing: a few validity periods, not every unit."""
        return any(
            (start is None or start <= on) and (end is None or on <= end)
            for start, end in self._district_periods
        )

    def communes_of_province(self, province_code: str) -> tuple[str, ...]:
        """The communes of the latest map in a province (its area for the provincial police)."""
        return self._latest_communes.get(province_code, ())

    @cached_property
    def _latest_communes(self) -> dict[str, tuple[str, ...]]:
        by_province: dict[str, list[str]] = {}
        for unit in self.units:
            if unit.level == "commune" and unit.valid_to is None and unit.parent_code:
                by_province.setdefault(unit.parent_code, []).append(unit.code)
        return {code: tuple(sorted(codes)) for code, codes in by_province.items()}

    def parent(self, unit: Unit) -> Unit | None:
        if unit.parent_code is None:
            return None
        on = unit.valid_to or unit.valid_from or date.max
        return self.find(unit.parent_code, on=on)

    def province_of(self, unit: Unit) -> Unit:
        while unit.level != "province":
            parent = self.parent(unit)
            if parent is None:
                break
            unit = parent
        return unit

    def district_of(self, unit: Unit) -> Unit | None:
        parent: Unit | None = unit
        while parent is not None and parent.level != "district":
            parent = self.parent(parent)
        return parent

    def full_name(self, unit: Unit) -> str:
        """The unit and its parents: "Phường Tân Lập, Thành phố Buôn Ma Thuột, Tỉnh Đắk Lắk"."""
        names = []
        current: Unit | None = unit
        while current is not None:
            names.append(current.name)
            current = self.parent(current)
        return ", ".join(names)

    def current_communes(self, unit: Unit) -> tuple[str, ...]:
        """The communes of the latest map covering the unit: the unit itself when it is one, else
        its successors (an old commune split between two new ones has both)."""
        if unit.level == "commune" and unit.valid_to is None:
            return (unit.code,)
        return unit.successors

    def successor_of(self, commune_code: str, *, level: Level) -> list[Unit]:
        """The units of an earlier map (of that level) that a current commune took area from."""
        return [
            u
            for u in self.units
            if u.level == level and u.valid_to is not None and commune_code in u.successors
        ]

    def map_label(self, on: date) -> str:
        """How a message names the map in force on a date: "map 2025 (in force from
        2025-07-01)", "map 2024 (in force until 2025-06-30)"."""
        units = self.in_force(on)
        if not units:
            return "no map"
        unit = units[0]
        if unit.valid_to is None and unit.valid_from is not None:
            return f"map {unit.map} (in force from {unit.valid_from.isoformat()})"
        if unit.valid_to is not None:
            return f"map {unit.map} (in force until {unit.valid_to.isoformat()})"
        return f"map {unit.map}"


def _parse_date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def load(files: Iterable[Path]) -> Divisions:
    """Read data files (one map of one province each) into one :class:`Divisions`."""
    units: list[Unit] = []
    sources: list[str] = []
    for path in sorted(files):
        document = json.loads(path.read_text("utf-8"))
        valid_from = _parse_date(document["valid_from"])
        valid_to = _parse_date(document["valid_to"])
        sources += [s for s in document.get("sources", []) if s not in sources]
        for raw in document["units"]:
            units.append(
                Unit(
                    code=raw["code"],
                    name=_nfc(raw["name"]),
                    map=document["map"],
                    type=_nfc(raw["type"]),
                    level=raw["level"],
                    parent_code=raw["parent_code"],
                    valid_from=valid_from,
                    valid_to=valid_to,
                    successors=tuple(raw.get("successors", ())),
                )
            )
    return Divisions(units=tuple(units), sources=tuple(sources))


#: A map file is named ``<first year>-<province code>-<slug>.json``; other data files may share
#: the folder (the identity-number province codes, app.identity_numbers).
MAP_FILES = "[0-9][0-9][0-9][0-9]-*.json"


def load_folder(folder: Path) -> Divisions:
    return load(folder.glob(MAP_FILES))


@lru_cache
def divisions() -> Divisions:
    """The service's places, read once per process."""
    folder = resources.files("app.divisions").joinpath("data")
    return load_folder(Path(str(folder)))
