"""Each request: its id (taken from ``X-Request-ID`` or made, and sent back), one log line, and
its count and duration in the metrics, by route template (never the raw path: ids in paths
would make a series per report, and paths are not for logs either)."""

from __future__ import annotations

import logging
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.ops.logs import REQUEST_CONTEXT, request_id_from
from app.ops.metrics import Metrics

log = logging.getLogger("app.requests")

#: The route of a request that matched none (a 404 or 405 before routing): one series for all.
UNMATCHED = "unmatched"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            try:
                return str(value.decode("ascii"))
            except UnicodeDecodeError:
                return None
    return None


def route_template(scope: Scope) -> str:
    """The matched route's template with the prefixes of the routers that include it
    (``/api/v1/reports/{report_id}``), or ``unmatched``."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if not isinstance(template, str):
        return UNMATCHED
    path = str(scope.get("path", ""))
    try:
        filled = template.format(**{k: str(v) for k, v in scope.get("path_params", {}).items()})
    except (KeyError, IndexError, ValueError):
        return template
    # The route knows its own path; the routers that include it add a fixed prefix (API_PREFIX).
    if path.endswith(filled):
        return path[: len(path) - len(filled)] + template
    return template


class RequestTelemetry:
    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = request_id_from(_header(scope, b"x-request-id"))
        context: dict[str, object] = {"request_id": request_id}
        token = REQUEST_CONTEXT.set(context)
        status = 500
        started = time.perf_counter()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [
                    (k, v) for k, v in message.get("headers", []) if k.lower() != b"x-request-id"
                ]
                headers.append((b"x-request-id", request_id.encode("ascii")))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            method = scope.get("method", "")
            self.metrics.observe(route=route, method=method, status=status, seconds=seconds)
            log.info(
                "%s %s %d",
                method,
                route,
                status,
                extra={
                    "route": route,
                    "method": method,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                    "organisation_id": context.get("organisation_id"),
                    "key_id": context.get("key_id"),
                },
            )
            REQUEST_CONTEXT.reset(token)
