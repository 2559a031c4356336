"""Every page router and the static files, included by app.main at the site root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from starlette.staticfiles import StaticFiles

from app.web import admin_pages, inspection_pages, reports_pages, session_pages
from app.web.security import PageHeaders

STATIC = Path(__file__).parent / "static"


def install_pages(app: FastAPI) -> None:
    for router in (
        session_pages.router,
        reports_pages.router,
        inspection_pages.router,
        admin_pages.router,
    ):
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.add_middleware(PageHeaders)
