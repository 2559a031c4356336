"""Cursor pagination, the one way every list endpoint pages.

The cursor is opaque to clients: base64url of the sort key of the last item returned. Paging is
by keyset (``WHERE (sort, id) > last``), so deep pages cost the same as the first and no item
is skipped or repeated while new rows arrive.
"""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, and_, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.errors import FieldError, ValidationProblem

T = TypeVar("T")
R = TypeVar("R")

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


@dataclass(frozen=True)
class PageParams:
    limit: int
    cursor: str | None


def _encode(values: Sequence[Any]) -> str:
    plain = [
        None if v is None else v.isoformat() if isinstance(v, datetime) else str(v) for v in values
    ]
    return base64.urlsafe_b64encode(json.dumps(plain).encode()).decode().rstrip("=")


def _bad_cursor() -> ValidationProblem:
    return ValidationProblem([FieldError(parameter="cursor", detail="Invalid cursor")])


def _decode(cursor: str, kinds: Sequence[type], *, first_nullable: bool = False) -> list[Any]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not isinstance(raw, list) or len(raw) != len(kinds):
            raise _bad_cursor()
        out: list[Any] = []
        for index, (value, kind) in enumerate(zip(raw, kinds, strict=True)):
            if value is None and first_nullable and index == 0:
                out.append(None)
            elif kind is datetime:
                parsed = datetime.fromisoformat(value)
                if parsed.tzinfo is None:
                    raise _bad_cursor()
                out.append(parsed.astimezone(UTC))  # OverflowError at the calendar's edges
            elif kind is uuid.UUID:
                out.append(uuid.UUID(value))
            elif kind is int:
                number = int(value)
                # A forged cursor must not reach the database as an out-of-range integer.
                if isinstance(value, bool) or not -(2**63) <= number < 2**63:
                    raise _bad_cursor()
                out.append(number)
            elif kind is str:
                # PostgreSQL refuses NUL in text: a forged cursor would be a 500.
                if not isinstance(value, str) or any(
                    ord(ch) < 32 or ord(ch) == 127 for ch in value
                ):
                    raise _bad_cursor()
                out.append(value)
            else:
                out.append(kind(value))
        return out
    except (ValueError, TypeError, OverflowError, binascii.Error, UnicodeDecodeError) as exc:
        raise _bad_cursor() from exc


def paginate(
    session: Session,
    stmt: Select[Any],
    *,
    order: Sequence[tuple[InstrumentedAttribute[Any], type]],
    params: PageParams,
    descending: bool = False,
    key: Callable[[Any], Sequence[Any]],
) -> tuple[list[Any], str | None]:
    """Run ``stmt`` ordered by ``order`` (columns with their Python types), one page of it.

    ``key`` extracts the sort values from a result row (to build the next cursor).
    """
    columns = [column for column, _ in order]
    if params.cursor is not None:
        last = _decode(params.cursor, [kind for _, kind in order])
        # The redundant bound on the first column gives the planner an index start key, so a
        # deep page is an index range scan instead of a filter over every earlier row.
        first = columns[0] <= last[0] if descending else columns[0] >= last[0]
        stmt = stmt.where(first, _after(columns, last, descending))
    stmt = stmt.order_by(*(c.desc() if descending else c.asc() for c in columns))
    rows = list(session.scalars(stmt.limit(params.limit + 1)).unique())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = _encode(key(rows[-1]))
    return rows, next_cursor


def paginate_nulls_last(
    session: Session,
    *,
    dated: Select[Any],
    undated: Select[Any],
    column: InstrumentedAttribute[Any],
    kind: type,
    tiebreak: InstrumentedAttribute[uuid.UUID],
    params: PageParams,
    key: Callable[[Any], Sequence[Any]],
) -> tuple[list[Any], str | None]:
    """Like :func:`paginate`, ascending by ``(column, tiebreak)`` with the rows whose
    ``column`` is null last (ordered by ``tiebreak``): ``dated`` selects the rows with a value,
    ``undated`` those without one.

    Two plain keyset queries rather than one over ``COALESCE``: the first, on the rows with a
    value, keeps reading an index on ``(column, tiebreak)`` in order; the second, only when
    the page is not full yet, reads the null rows."""
    last = (
        _decode(params.cursor, [kind, uuid.UUID], first_nullable=True)
        if params.cursor is not None
        else None
    )
    rows: list[Any] = []
    if last is None or last[0] is not None:
        valued = dated
        if last is not None:
            valued = valued.where(column >= last[0], _after([column, tiebreak], last, False))
        valued = valued.order_by(column.asc(), tiebreak.asc()).limit(params.limit + 1)
        rows = list(session.scalars(valued).unique())
    if len(rows) <= params.limit:
        empty = undated
        if last is not None and last[0] is None:
            empty = empty.where(tiebreak > last[1])
        empty = empty.order_by(tiebreak.asc()).limit(params.limit + 1 - len(rows))
        rows += list(session.scalars(empty).unique())
    next_cursor = None
    if len(rows) > params.limit:
        rows = rows[: params.limit]
        next_cursor = _encode(key(rows[-1]))
    return rows, next_cursor


def _after(columns: Sequence[Any], values: Sequence[Any], descending: bool) -> Any:
    """Rows strictly after ``values`` in (c1, c2, ...) order, as portable SQL."""
    first, first_value = columns[0], values[0]
    beyond = first < first_value if descending else first > first_value
    if len(columns) == 1:
        return beyond
    return or_(beyond, and_(first == first_value, _after(columns[1:], values[1:], descending)))
