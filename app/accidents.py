"""The accident's class, shared by every domain that speaks of accidents (reports,
investigations, notifications, statistics), so that none of them depends on another's models
for it."""

from __future__ import annotations

import enum


class Category(enum.StrEnum):
    labour_accident = "labour_accident"
    technical_incident = "technical_incident"


class Severity(enum.StrEnum):
    """Decree 39/2016, Art. 9: fatal, serious injury, minor; ``none`` for an incident without
    victims."""

    fatal = "fatal"
    serious = "serious"
    minor = "minor"
    none = "none"
