"""Logs: one JSON object per line on standard error (``TNLD_LOG_FORMAT=json``, the default in
production), or readable lines (``text``) for development; uvicorn's own lines go the same way.

A request's line carries its id (``X-Request-ID`` when the caller gave a usable one, else a new
one), route template, status, duration, and the calling organisation and API key. No line
carries personal data (CONTRACT.md, Operations; Decree 13/2023/NĐ-CP on personal data): the
messages logged by tnld name deliveries, reports and organisations by id, never by content, and
the route is the template (``/api/v1/reports/{report_id}``), never the raw path or query.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import uuid
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

#: The fields of the request being handled, shared with the threads that run its handlers
#: (a dict, so that a dependency running in a worker thread can add the principal to it).
REQUEST_CONTEXT: ContextVar[dict[str, Any] | None] = ContextVar("tnld_request", default=None)

#: 1–128 printable ASCII characters (CONTRACT.md, Operations).
_REQUEST_ID = re.compile(r"^[\x21-\x7e]{1,128}$")
#: Attributes every LogRecord has; anything else passed in ``extra`` is a field of the line.
_STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime", "color_message"}


_EMAIL = re.compile(r"[^\s<>()\[\]\"',;:]+@[^\s<>()\[\]\"',;:]+")


def scrub(text: str) -> str:
    """``text`` (an SMTP reply, an error) without the e-mail addresses it may quote."""
    return _EMAIL.sub("<address>", text)


def request_id_from(header: str | None) -> str:
    """The caller's ``X-Request-ID`` when it is 1–128 printable characters, else a new id."""
    if header is not None and _REQUEST_ID.match(header):
        return header
    return uuid.uuid4().hex


def note_principal(*, organisation_id: uuid.UUID, api_key_id: uuid.UUID | None) -> None:
    """Record who is calling, for the request's log line (ids only)."""
    context = REQUEST_CONTEXT.get()
    if context is not None:
        context["organisation_id"] = str(organisation_id)
        context["key_id"] = str(api_key_id) if api_key_id else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = REQUEST_CONTEXT.get()
        if context is not None:
            line["request_id"] = context.get("request_id")
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                line[key] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        extra = {
            key: value
            for key, value in record.__dict__.items()
            if key not in _STANDARD and not key.startswith("_")
        }
        if extra:
            text += " " + " ".join(f"{key}={value}" for key, value in extra.items())
        return text


def configure(log_format: str) -> None:
    """Send every logger (tnld's, uvicorn's, alembic's) to standard error in ``log_format``."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(formatter(log_format))
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    # tnld logs each request itself (with its id, route template and duration); uvicorn's
    # access line would repeat it with the raw path, which may carry a query string.
    logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    logging.getLogger("httpx").setLevel(logging.WARNING)


def formatter(log_format: str) -> logging.Formatter:
    return JsonFormatter() if log_format == "json" else TextFormatter()


def uvicorn_log_config(log_format: str) -> dict[str, Any]:
    """uvicorn's dictConfig, applied in every server process it starts (``--workers``): the
    root logger writes ``log_format`` to standard error; uvicorn's loggers propagate to it."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"tnld": {"()": "app.ops.logs.formatter", "log_format": log_format}},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stderr",
                "formatter": "tnld",
            }
        },
        "root": {"handlers": ["stderr"], "level": "INFO"},
        "loggers": {
            "uvicorn": {"handlers": [], "propagate": True, "level": "INFO"},
            "uvicorn.error": {"handlers": [], "propagate": True, "level": "INFO"},
            # tnld logs each request itself (app.ops.middleware), without the raw path.
            "uvicorn.access": {"handlers": [], "propagate": True, "level": "WARNING"},
            "alembic.runtime.plugins": {"level": "WARNING"},
            "httpx": {"level": "WARNING"},
        },
    }
