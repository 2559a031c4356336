"""Headers on every response (Security and privacy: headers).

``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` everywhere;
``Cache-Control: no-store`` under ``/api`` (answers carry personal data: no shared or browser
cache keeps them); no ``Server`` banner. Headers a response already sets (the web pages' own
policies) are kept, so pages can be stricter.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

_EVERYWHERE: tuple[tuple[bytes, bytes], ...] = (
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
_UNDER_API = ((b"cache-control", b"no-store"),)


class SecurityHeaders:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        wanted = _EVERYWHERE
        path = str(scope.get("path", ""))
        if path == "/api" or path.startswith("/api/"):
            wanted = _EVERYWHERE + _UNDER_API

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"server"]
                present = {k.lower() for k, _ in headers}
                headers += [(k, v) for k, v in wanted if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)
