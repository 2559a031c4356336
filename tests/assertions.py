"""Assertions shared by the tests of the contract's error rules."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from app.db import session_factory
from app.models import Base

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(
    response: Any, status: int, *, type_suffix: str | None = None, pointer: str | None = None
) -> dict[str, Any]:
    """``response`` is an RFC 9457 problem with ``status`` (and a field error at ``pointer``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    doc: dict[str, Any] = response.json()
    assert doc.keys() >= PROBLEM_KEYS, doc
    assert doc["status"] == status
    if type_suffix is not None:
        assert doc["type"].endswith("/" + type_suffix), doc["type"]
    if pointer is not None:
        pointers = [e.get("pointer") for e in doc.get("errors", [])]
        assert pointer in pointers, doc
        assert all(p is None or not p.startswith("#") for p in pointers)
    return doc


def row_counts() -> dict[str, int]:
    """The number of rows in every table, to prove that a request wrote nothing."""
    with session_factory()() as session:
        return {
            table.name: session.scalar(select(func.count()).select_from(table)) or 0
            for table in Base.metadata.sorted_tables
        }
