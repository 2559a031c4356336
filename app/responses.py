"""OpenAPI documentation of the problem responses each route can give."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.errors import PROBLEM_MEDIA_TYPE


class FieldErrorOut(BaseModel):
    pointer: str | None = Field(default=None, description="JSON Pointer into the request body")
    parameter: str | None = Field(default=None, description="Query parameter")
    header: str | None = Field(default=None, description="Request header")
    detail: str


class ProblemOut(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldErrorOut] | None = None


_DESCRIPTIONS = {
    400: "Bad request",
    401: "Missing, invalid or revoked API key",
    403: "The caller's role may not use this endpoint",
    404: "Not found (or outside the caller's scope)",
    405: "Method not allowed",
    409: "Conflict",
    412: "If-Match does not match the current ETag",
    413: "Request body over 1 MiB",
    415: "Unsupported media type",
    422: "Validation error",
    429: "Over the rate limit of this API key (or, without a valid key, of this address): "
    "retry after `Retry-After` seconds",
    503: "Overloaded: more requests in flight than the server takes; retry after "
    "`Retry-After` seconds",
}


def problems(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` entries for the given problem statuses."""
    return {
        status: {
            "model": ProblemOut,
            "description": _DESCRIPTIONS[status],
            "content": {
                PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ProblemOut"}}
            },
        }
        for status in statuses
    }
