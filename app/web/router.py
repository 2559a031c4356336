"""Every page router and the static files, included by app.main at the site root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.routing import APIRoute
from starlette.staticfiles import StaticFiles

from app.web import admin_pages, inspection_pages, reports_pages, session_pages
from app.web.errors import page_error
from app.web.security import PageHeaders

STATIC = Path(__file__).parent / "static"


def install_pages(app: FastAPI) -> None:
    segments = {"", "static"}
    for router in (
        session_pages.router,
        reports_pages.router,
        inspection_pages.router,
        admin_pages.router,
    ):
        app.include_router(router)
        segments |= {
            r.path.strip("/").split("/")[0] for r in router.routes if isinstance(r, APIRoute)
        }
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(PageHeaders)
    # Errors raised outside a page's own handler (unknown path, 405, a link FastAPI could not
    # read) are told as pages too (app.problem_handlers.answer).
    app.state.page_segments = frozenset(segments)
    app.state.page_errors = page_error
