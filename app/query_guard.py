"""Query strings under ``/api`` are checked before any endpoint sees them (Security and
privacy: bad input is 422, never 500): a parameter whose name or value holds a control
character (NUL among them, which PostgreSQL refuses in text) or is not UTF-8 is refused with
422 naming the parameter, whatever the endpoint does with it."""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote_to_bytes

from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import FieldError, ValidationProblem
from app.problem_handlers import problem_response


def _bad(text: str) -> bool:
    return any(unicodedata.category(ch) in ("Cc", "Cs") for ch in text)


def query_problem(query: bytes) -> ValidationProblem | None:
    for part in query.split(b"&"):
        if not part:
            continue
        raw_name, _, raw_value = part.partition(b"=")
        try:
            name = unquote_to_bytes(raw_name.replace(b"+", b" ")).decode("utf-8")
            value = unquote_to_bytes(raw_value.replace(b"+", b" ")).decode("utf-8")
        except UnicodeDecodeError:
            name = raw_name.decode("latin-1")
            return ValidationProblem([FieldError(parameter=name, detail="Must be UTF-8")])
        if _bad(name) or _bad(value):
            parameter = name if not _bad(name) else "query"
            return ValidationProblem(
                [FieldError(parameter=parameter, detail="Must not contain control characters")]
            )
    return None


class QueryGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and str(scope.get("path", "")).startswith("/api/"):
            problem = query_problem(scope.get("query_string", b""))
            if problem is not None:
                await problem_response(problem)(scope, receive, send)
                return
        await self.app(scope, receive, send)
