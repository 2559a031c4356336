"""Jinja2 templates with Vietnamese filters."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.responses import HTMLResponse

from app import clock
from app.web import vietnamese as vi

_HERE = Path(__file__).parent

env = Environment(
    loader=FileSystemLoader(_HERE / "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.filters["ngay"] = vi.ngay
env.filters["gio"] = vi.gio
env.filters["han"] = vi.last_day
env.globals.update(
    SEVERITY=vi.SEVERITY,
    CATEGORY=vi.CATEGORY,
    OUTCOME=vi.OUTCOME,
    GENDER=vi.GENDER,
    EMPLOYMENT=vi.EMPLOYMENT,
    STATUS=vi.STATUS,
    DELIVERY=vi.DELIVERY,
    CHANNEL=vi.CHANNEL,
    KIND=vi.KIND,
)


def render(
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    html = env.get_template(name).render(now=clock.now(), **context)
    return HTMLResponse(html, status_code=status_code, headers=headers)
