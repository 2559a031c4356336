"""The pages that problem ``type``s point to (``/problems/<slug>``): what each problem means
and what a client should do, in plain HTML, from the problems' own classes (app/errors.py)."""

from __future__ import annotations

import html
import re

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from app.errors import PROBLEM_TYPE_BASE, NotFound, problem_types

router = APIRouter(include_in_schema=False)

#: Statuses answered by the framework itself (``http-<status>``, app.problem_handlers).
_HTTP_STATUS = re.compile(r"^http-([1-5][0-9]{2})$")

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><h1>{title}</h1><p>HTTP {status}. Problem type <code>{type}</code>.</p>
<p>{explanation}</p>
<p>The problem's <code>detail</code> says what happened to this request; <code>errors</code>,
when present, lists the fields at fault.</p></body></html>
"""


@router.get("/problems/{name}", response_class=HTMLResponse)
async def problem_page(name: str) -> HTMLResponse:
    cls = problem_types().get(name)
    if cls is not None:
        title, status, explanation = cls.title, str(cls.status), cls.explanation
    elif match := _HTTP_STATUS.match(name):
        title, status = f"HTTP {match[1]}", match[1]
        explanation = "The HTTP layer answered with this status; see the problem's detail."
    else:
        raise NotFound("No such problem type")
    return HTMLResponse(
        _PAGE.format(
            title=html.escape(title),
            status=status,
            type=html.escape(PROBLEM_TYPE_BASE + name),
            explanation=html.escape(explanation),
        )
    )
