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
import time
from datetime import UTC, timedelta
from email.utils import parsedate_to_datetime

import httpx

from app import clock
from app.notifications.jobs import Job, Outcome, SendResult, short

SECRET_PREFIX = "whsec_"  # noqa: S105 (a prefix, not a secret)
#: A receiver may ask us to wait (Retry-After), but not for longer than this.
MAX_RETRY_AFTER = timedelta(hours=24)
USER_AGENT = "tnld-webhooks/1"
#: How much of an error answer is kept, and how long we read for it.
EXCERPT_BYTES = 300
EXCERPT_SECONDS = 2.0
#: Most of an acceptance's body that is read.
MAX_ACCEPT_BYTES = 65536
#: httpx's own (per read) timeouts, never reached before a send's total deadline.
MAX_TIMEOUT_SECONDS = 300.0


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


def headers(job: Job, payload: bytes, *, now: float | None = None) -> dict[str, str]:
    assert job.webhook_secret is not None
    msg_id = str(job.delivery_id)
    # The send time, not the event time: receivers reject old timestamps (replay protection).
    timestamp = int(now if now is not None else time.time())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": sign(
            job.webhook_secret, msg_id=msg_id, timestamp=timestamp, payload=payload
        ),
    }


def new_client(*, connections: int) -> httpx.AsyncClient:
    """The worker's one client: its connections are kept and reused across deliveries. Its
    timeouts are a backstop; each send has its own total deadline (:func:`send_webhook`)."""
    return httpx.AsyncClient(
        follow_redirects=False,
        timeout=httpx.Timeout(MAX_TIMEOUT_SECONDS),
        limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
    )


async def send_webhook(job: Job, *, client: httpx.AsyncClient, deadline: float) -> SendResult:
    """POST the signed event; the whole exchange (connect, request, status, headers and what
    is read of the body) ends within ``deadline`` seconds, however slowly the receiver answers:
    httpx's timeouts apply to each read, and a receiver sending a byte every few seconds would
    never trip them (Security and privacy: a send has a total deadline)."""
    if not job.webhook_url or not job.webhook_secret:
        return SendResult(Outcome.failed, error="The organisation has no webhook_url any more")
    payload = body(job)
    try:
        request_headers = headers(job, payload)
    except (binascii.Error, ValueError):
        return SendResult(Outcome.failed, error="The organisation's webhook secret is invalid")
    try:
        async with asyncio.timeout(deadline):
            async with client.stream(
                "POST", job.webhook_url, content=payload, headers=request_headers
            ) as response:
                status = f"HTTP {response.status_code} {response.reason_phrase}".strip()
                if 200 <= response.status_code < 300:
                    # Read to the end: an answer cut off mid-body is not an acceptance (it is
                    # sent again; the receiver drops the copy by its webhook-id). Reading it
                    # also lets the connection be reused.
                    await _drain(response)
                    excerpt = ""
                else:
                    excerpt = await _excerpt(response, budget=EXCERPT_SECONDS)
    except TimeoutError:
        return SendResult(Outcome.retry, error=f"timeout: no answer in time ({deadline:g} s)")
    except httpx.TimeoutException as exc:
        return SendResult(Outcome.retry, error=short(f"timeout: no answer in time ({exc!r})"))
    except httpx.HTTPError as exc:
        return SendResult(Outcome.retry, error=short(f"{type(exc).__name__}: {exc}"))
    code = response.status_code
    if 200 <= code < 300:
        return SendResult(Outcome.delivered, response=status)
    error = short(f"{status}: {excerpt}" if excerpt else status)
    if code == 410:
        # Gone: the receiver says this endpoint will never accept it (Standard Webhooks).
        return SendResult(Outcome.failed, response=status, error=error)
    return SendResult(
        Outcome.retry,
        response=status,
        error=error,
        retry_after=retry_after(response.headers.get("retry-after")),
    )


async def _drain(response: httpx.Response) -> None:
    """Read an acceptance's body (usually empty); past ``MAX_ACCEPT_BYTES`` the connection is
    dropped rather than read on."""
    read = 0
    async for part in response.aiter_raw():
        read += len(part)
        if read > MAX_ACCEPT_BYTES:
            break


async def _excerpt(response: httpx.Response, *, budget: float) -> str:
    """The start of an error answer, for the attempt record. Neither a huge nor a slow body
    holds the sender (what it has read by then is kept)."""
    chunk = b""
    try:
        async with asyncio.timeout(budget):
            async for part in response.aiter_bytes():
                chunk += part
                if len(chunk) >= EXCERPT_BYTES:
                    break
    except (TimeoutError, httpx.HTTPError):
        pass  # the status is what counts; the body is only a hint
    return short(chunk[:EXCERPT_BYTES].decode("utf-8", "replace"))


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
