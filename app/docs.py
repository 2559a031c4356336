"""Interactive API documentation at ``/docs``, with Swagger UI's files served by tnld itself
(no CDN: a page of a service holding personal data loads no third-party script). Not served
when ``TNLD_ENV=production`` unless ``TNLD_DOCS=true`` (Security and privacy: headers).

Swagger UI (Apache License 2.0) comes from the ``swagger-ui-bundle`` package, with its licence.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from swagger_ui_bundle import swagger_ui_path

from app.config import Settings

ASSETS = "/docs/assets"


def install_docs(app: FastAPI, settings: Settings) -> None:
    if not settings.docs_enabled:
        return
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_path), name="docs-assets")

    app.add_api_route("/docs", docs, methods=["GET"], include_in_schema=False)


async def docs(request: Request) -> HTMLResponse:
    # The app is taken from the request, not from a closure: FastAPI keeps the callables of
    # dependencies and endpoints in module-level caches, and a closure over the app kept every
    # app the test suite made alive (about 1 GB by the end of a run).
    app: FastAPI = request.app
    return get_swagger_ui_html(
        openapi_url=app.openapi_url or "/openapi.json",
        title=f"{app.title} – API",
        swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{ASSETS}/favicon-32x32.png",
    )
