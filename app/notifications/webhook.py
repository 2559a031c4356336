"""Webhooks, signed per Standard Webhooks v1 (https://www.standardwebhooks.com/).

``webhook-id`` is the delivery id: the same on every retry (receivers drop duplicates by it),
and the id a receiver acknowledges with ``POST /api/v1/notifications/{id}/acknowledge``.
Redirects are not followed (a signed notification goes only where it was configured to go).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import hmac
import json
import ssl
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from functools import lru_cache

import h11
import httpx

from app import clock
from app.config import Settings
from app.notifications import http11, targets
from app.notifications.channels import OrganisationRow, Sender, Sent
from app.notifications.jobs import Job, Outcome, SendResult, short
from app.notifications.models import Channel

#: How long webhooks are signed with the previous secret too, after a rotation.
WEBHOOK_SECRET_OVERLAP = timedelta(hours=24)
SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
#: A receiver may ask us to wait (Retry-After), but not for longer than this.
MAX_RETRY_AFTER = timedelta(hours=24)
USER_AGENT = "tnld-webhooks/1"
#: How much of an error answer is kept, and how long we read for it.
EXCERPT_BYTES = 300
EXCERPT_SECONDS = 2.0
#: Most of an acceptance's body that is read.
MAX_ACCEPT_BYTES = 65536
#: Idle connections the pool keeps for reuse (a few per recipient host).
KEEPALIVE_CONNECTIONS = 16


@dataclass(frozen=True)
class WebhookAddress:
    """Where an organisation's webhooks go, and what they are signed with."""

    url: str
    secret: str
    #: The secret before a rotation less than 24 hours ago: the webhook is signed with both.
    previous_secret: str | None = None


def body(job: Job) -> bytes:
    document = {
        "type": job.event_type,
        "timestamp": clock.vietnam_time(job.event_created_at).isoformat(),
        "data": job.payload,
    }
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def secret_bytes(secret: str) -> bytes:
    return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)


def sign(secret: str, *, msg_id: str, timestamp: int, payload: bytes) -> str:
    """``v1,`` + base64(HMAC-SHA256(secret bytes, "{id}.{timestamp}.{body}"))."""
    signed = f"{msg_id}.{timestamp}.".encode() + payload
    digest = hmac.new(secret_bytes(secret), signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def headers(
    job: Job, payload: bytes, *, address: WebhookAddress, now: float | None = None
) -> dict[str, str]:
    msg_id = str(job.delivery_id)
    # The send time, not the event time: receivers reject old timestamps (replay protection).
    timestamp = int(now if now is not None else time.time())
    signatures = [
        sign(secret, msg_id=msg_id, timestamp=timestamp, payload=payload)
        for secret in (address.secret, address.previous_secret)
        if secret
    ]
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        # After a rotation, both signatures, space-separated (Standard Webhooks): a receiver
        # still on the old secret keeps verifying for WEBHOOK_SECRET_OVERLAP.
        "webhook-signature": " ".join(signatures),
    }


def new_client(*, connections: int) -> http11.Client:
    """The worker's one client: its connections are kept and reused across deliveries (at most
    ``KEEPALIVE_CONNECTIONS`` idle ones). Each send has its own total deadline
    (:func:`send_webhook`)."""
    return http11.Client(max_idle=min(connections, KEEPALIVE_CONNECTIONS))


@lru_cache(maxsize=1024)
def _request_line_parts(url: str) -> tuple[str, str]:
    """The ``Host`` header and the request target (path and query) of a webhook URL, as httpx
    spells them (cached: the same few URLs are sent to again and again)."""
    parsed = httpx.URL(url)
    return parsed.netloc.decode("ascii"), parsed.raw_path.decode("ascii")


async def send_webhook(
    job: Job,
    *,
    client: http11.Client,
    deadline: float,
    https_only: bool = False,
    allowed: Sequence[targets.IPNetwork] = (),
) -> SendResult:
    """POST the signed event; the whole exchange (resolving the host, connect, request, status,
    headers and what is read of the body) ends within ``deadline`` seconds, however slowly the
    receiver answers (Security and privacy: a send has a total deadline; a receiver sending a
    byte every few seconds would never trip a per-read timeout).

    The target is checked again right before the send, and the request goes to the address
    that was checked (the ``Host`` header and TLS name stay the configured host's).

    Each error starts with its class (``timeout``, ``connection_refused``, ``http_500``,
    ``address_not_allowed``…) and a colon: the class is all the filing organisation sees."""
    address = job.address
    if not isinstance(address, WebhookAddress):
        return SendResult(
            Outcome.failed, error="no_webhook_url: the organisation has none any more"
        )
    payload = body(job)
    try:
        request_headers = headers(job, payload, address=address)
    except (binascii.Error, ValueError):
        return SendResult(Outcome.failed, error="invalid_secret: the webhook secret is invalid")
    try:
        async with asyncio.timeout(deadline):
            try:
                target = await targets.check_async(
                    address.url, https_only=https_only, allowed=allowed
                )
            except targets.TargetRefused as exc:
                if exc.reason == "name_not_resolved":
                    # A name that does not resolve now may resolve later (a DNS outage).
                    return SendResult(Outcome.retry, error=short(f"{exc.reason}: {exc.detail}"))
                return SendResult(Outcome.failed, error=short(f"{exc.reason}: {exc.detail}"))
            host_header, request_target = _request_line_parts(address.url)
            async with client.post(
                key=(target.scheme, target.host, target.port, str(target.addresses[0])),
                host_header=host_header,
                target=request_target,
                headers=list(request_headers.items()),
                body=payload,
            ) as response:
                code = response.status_code
                status = f"HTTP {code} {response.reason_phrase}".strip()
                if 200 <= code < 300:
                    # Read to the end: an answer cut off mid-body is not an acceptance (it is
                    # sent again; the receiver drops the copy by its webhook-id). Reading it
                    # also lets the connection be reused; past MAX_ACCEPT_BYTES it is dropped
                    # rather than read on.
                    await response.read(MAX_ACCEPT_BYTES)
                    excerpt = ""
                else:
                    excerpt = await _excerpt(response, budget=EXCERPT_SECONDS)
    except TimeoutError:
        return SendResult(Outcome.retry, error=f"timeout: no answer in time ({deadline:g} s)")
    except (http11.ConnectError, http11.ConnectionLost, h11.ProtocolError) as exc:
        return SendResult(
            Outcome.retry, error=short(f"{error_class(exc)}: {type(exc).__name__}: {exc}")
        )
    if 200 <= code < 300:
        return SendResult(Outcome.delivered, response=status)
    error = short(f"http_{code}: {status}: {excerpt}" if excerpt else f"http_{code}: {status}")
    if code == 410:
        # Gone: the receiver says this endpoint will never accept it (Standard Webhooks).
        return SendResult(Outcome.failed, response=status, error=error)
    return SendResult(
        Outcome.retry,
        response=status,
        error=error,
        retry_after=retry_after(response.headers.get("retry-after")),
    )


def error_class(exc: BaseException) -> str:
    """The short class of a transport error (what a filer may see of a recipient's trouble)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection_refused"
        if isinstance(cause, ssl.SSLError):
            return "tls_error"
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, http11.ConnectError):
        return "connection_failed"
    if isinstance(exc, h11.ProtocolError):
        return "protocol_error"
    return "connection_lost"


async def _excerpt(response: http11.Exchange, *, budget: float) -> str:
    """The start of an error answer, for the attempt record. Neither a huge nor a slow body
    holds the sender (what it has read by then is kept)."""
    try:
        async with asyncio.timeout(budget):
            await response.read(EXCERPT_BYTES)
    except (TimeoutError, http11.ConnectionLost, h11.ProtocolError):
        pass  # the status is what counts; the body is only a hint
    return short(bytes(response.body[:EXCERPT_BYTES]).decode("utf-8", "replace"))


def retry_after(value: str | None) -> timedelta | None:
    """``Retry-After`` as seconds or as an HTTP date (RFC 9110, 10.2.3)."""
    if not value:
        return None
    value = value.strip()
    delay: timedelta | None
    if value.isdigit():
        delay = timedelta(seconds=int(value))
    else:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        delay = when - clock.now()
    return max(timedelta(0), min(delay, MAX_RETRY_AFTER))


class WebhookSender(Sender):
    """Each webhook on its own (a slot frees as soon as its receiver answers), over the worker's
    one pooled client."""

    channel = Channel.webhook
    route_columns = ("webhook_url",)
    address_columns = (
        "webhook_url",
        "webhook_secret",
        "previous_webhook_secret",
        "webhook_secret_rotated_at",
    )

    def __init__(self, settings: Settings, *, concurrency: int) -> None:
        super().__init__(settings, concurrency=concurrency)
        self.client = new_client(connections=concurrency)

    @classmethod
    def address(cls, organisation: OrganisationRow, *, now: datetime) -> WebhookAddress | None:
        url, secret = organisation["webhook_url"], organisation["webhook_secret"]
        if not url or not secret:
            return None
        rotated = organisation["webhook_secret_rotated_at"]
        recent = rotated is not None and now - rotated < WEBHOOK_SECRET_OVERLAP
        return WebhookAddress(
            url, secret, organisation["previous_webhook_secret"] if recent else None
        )

    async def send(self, jobs: Sequence[Job]) -> list[Sent]:
        results: list[Sent] = []
        for job in jobs:
            started = time.monotonic()
            result = await send_webhook(
                job,
                client=self.client,
                deadline=self.settings.webhook_timeout_seconds,
                https_only=self.settings.webhooks_need_https,
                allowed=self.settings.allowed_webhook_networks,
            )
            results.append((result, int((time.monotonic() - started) * 1000)))
        return results

    async def aclose(self) -> None:
        await self.client.aclose()
