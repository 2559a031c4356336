"""One exception hierarchy, rendered as RFC 9457 ``application/problem+json``.

Services raise :class:`Problem` subclasses; neither they nor this module import FastAPI (the
delivery worker uses these classes and starts without the web framework). The handlers of
app.problem_handlers turn them, FastAPI's request-validation errors and Starlette's HTTP errors
into problem documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

PROBLEM_MEDIA_TYPE = "application/problem+json"
#: Problem types are ``PROBLEM_TYPE_BASE + slug``, a page tnld serves that explains the
#: problem (app/problems.py; a reference relative to the service, RFC 9457 §3.1.1); clients
#: match on the slug at the end.
PROBLEM_TYPE_BASE = "/problems/"


@dataclass(frozen=True)
class FieldError:
    """One invalid field: a JSON Pointer into the request body (or a query/header parameter)."""

    detail: str
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None

    def as_dict(self) -> dict[str, str]:
        out: dict[str, str] = {}
        if self.pointer is not None:
            out["pointer"] = self.pointer
        if self.parameter is not None:
            out["parameter"] = self.parameter
        if self.header is not None:
            out["header"] = self.header
        out["detail"] = self.detail
        return out


def json_pointer(path: Iterable[str | int]) -> str:
    """RFC 6901 pointer for a path of keys and indexes."""
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path)


class Problem(Exception):
    status: int = 500
    slug: str = "internal-error"
    title: str = "Internal server error"
    #: What the problem means and what to do, served at ``/problems/<slug>`` (app/problems.py).
    explanation: str = (
        "Something failed inside tnld. It has been logged; nothing was stored partly. "
        "Retry later; if a POST carried an Idempotency-Key, retry with the same key."
    )

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Sequence[FieldError] = (),
        headers: dict[str, str] | None = None,
        extra: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(detail or self.title)
        self.detail = detail or self.title
        self.errors = list(errors)
        self.headers = headers or {}
        self.extra = extra or {}

    def body(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "type": PROBLEM_TYPE_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            doc["errors"] = [e.as_dict() for e in self.errors]
        doc.update(self.extra)
        return doc


class BadRequest(Problem):
    status, slug, title = 400, "bad-request", "Bad request"
    explanation = (
        "The request is malformed: a required header is missing or invalid (e.g. "
        "Idempotency-Key), or a parameter cannot be read. `errors` names the header or "
        "parameter."
    )


class Unauthenticated(Problem):
    status, slug, title = 401, "unauthenticated", "Authentication required"
    explanation = (
        "No API key, or an invalid or revoked one. Send `Authorization: Bearer <api key>`."
    )

    def __init__(self, detail: str = "A valid API key is required") -> None:
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"})


class Forbidden(Problem):
    status, slug, title = 403, "forbidden", "Forbidden"
    explanation = (
        "The caller's organisation may not do this (its kind, e.g. the police cannot file"
        " reports, or only the filing organisation may amend a report)."
    )


class NotFound(Problem):
    status, slug, title = 404, "not-found", "Not found"
    explanation = (
        "No such resource, or it lies outside what the caller's organisation may see: "
        "both are answered alike."
    )


class MethodNotAllowed(Problem):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"
    explanation = (
        "The resource does not accept this method; the `Allow` header lists those it does."
    )


class Conflict(Problem):
    status, slug, title = 409, "conflict", "Conflict"
    explanation = (
        "The request conflicts with the resource's state (e.g. an investigation's "
        "deadline was already extended once)."
    )


class IdempotentRequestInFlight(Conflict):
    slug, title = "idempotent-request-in-flight", "A request with this Idempotency-Key is in flight"
    explanation = (
        "A request with the same Idempotency-Key is still being processed. Retry with the"
        " same key in a moment: you will get its stored response."
    )


class InvalidTransition(Conflict):
    slug, title = "invalid-transition", "Transition not allowed"
    explanation = (
        "The investigation cannot make this move: its status goes one step forward only "
        "(open, in_progress, concluded, closed), and a concluded or closed record is "
        "fixed."
    )


class PreconditionFailed(Problem):
    status, slug, title = 412, "precondition-failed", "Precondition failed"
    explanation = (
        "`If-Match` does not match the resource's current `ETag`: it changed since you "
        "read it. Read it again and retry."
    )


class PayloadTooLarge(Problem):
    status, slug, title = 413, "payload-too-large", "Request body too large"
    explanation = "The request body is over 1 MiB."


class UnsupportedMediaType(Problem):
    status, slug, title = 415, "unsupported-media-type", "Unsupported media type"
    explanation = "The request body is not JSON: send `Content-Type: application/json`."


class ValidationProblem(Problem):
    status, slug, title = 422, "validation-error", "The request is invalid"
    explanation = (
        "The request body or a parameter is invalid. `errors` lists each invalid field "
        "with a JSON Pointer (`pointer`), `parameter` or `header`, and what is wrong."
    )

    def __init__(self, errors: Sequence[FieldError], detail: str | None = None) -> None:
        super().__init__(detail or _summarise(errors), errors=errors)


class NotNotifiable(ValidationProblem):
    slug, title = "not-notifiable", "The accident is not notifiable"
    explanation = (
        "The accident is not one reported here: a labour accident must have at least one "
        "dead or two seriously injured victims (Law 84/2015, Art. 34; Decree 39/2016, "
        "Art. 10)."
    )


class IdempotencyKeyReused(ValidationProblem):
    slug, title = "idempotency-key-reused", "Idempotency-Key reused with a different body"
    explanation = (
        "The Idempotency-Key was already used with a different request body. Use a new "
        "key for a new request."
    )


class RetryLater(Problem):
    """A problem the client should retry, after ``Retry-After`` seconds."""

    def __init__(self, detail: str, *, retry_after_seconds: int) -> None:
        super().__init__(detail, headers={"Retry-After": str(retry_after_seconds)})


class Overloaded(RetryLater):
    """More requests in flight than the process takes (app.admission): retry after a pause."""

    status, slug, title = 503, "overloaded", "The service is overloaded"
    explanation = (
        "More requests are in flight than the server takes. Nothing was read or written: "
        "retry after `Retry-After` seconds (with the same Idempotency-Key)."
    )


class OutcomeUnknown(RetryLater):
    """The connection to the database was lost while a write committed: it may or may not
    have been stored (contract, After a crash)."""

    status, slug, title = 503, "outcome-unknown", "The outcome of the request is unknown"
    explanation = (
        "The connection to the database was lost while the request's write was committed: it "
        "may or may not have been stored. Retry after `Retry-After` seconds with the same "
        "Idempotency-Key: you will get the stored response, or the request will be processed."
    )

    def __init__(self) -> None:
        super().__init__(
            "The database connection was lost while the request was being stored; retry with "
            "the same Idempotency-Key",
            retry_after_seconds=1,
        )


class DatabaseUnavailable(RetryLater):
    """The connection to the database was lost during the request (a restart of the database,
    a dropped connection): answered as a problem to retry, never as an unexpected error."""

    status, slug, title = 503, "database-unavailable", "The database could not be reached"
    explanation = (
        "The connection to the database was lost while the request was being answered. A read "
        "can be retried after `Retry-After` seconds. A change may or may not have been stored: "
        "read the resource again before repeating it (a report's filing or amendment: retry "
        "with the same Idempotency-Key)."
    )

    def __init__(self, *, safe: bool) -> None:
        super().__init__(
            "The connection to the database was lost; retry"
            if safe
            else "The connection to the database was lost; the change may or may not have "
            "been stored: read it again before repeating it",
            retry_after_seconds=1,
        )


class HeaderFieldsTooLarge(Problem):
    """Answered by the HTTP protocol itself (app/http_guard.py), before any routing."""

    status, slug, title = 431, "request-header-fields-too-large", "Request header fields too large"
    explanation = "The request line and headers are over 16 KiB in all."


def _summarise(errors: Sequence[FieldError]) -> str:
    if not errors:
        return "The request is invalid"
    first = errors[0]
    where = first.pointer or first.parameter or first.header or "request"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where or '/'}: {first.detail}{more}"


_MESSAGES = {
    "missing": "This field is required",
    "extra_forbidden": "Unknown field",
}


def field_errors_from_pydantic(raw_errors: Sequence[Any]) -> list[FieldError]:
    errors: list[FieldError] = []
    for err in raw_errors:
        loc = list(err.get("loc", ()))
        kind = err.get("type", "")
        message = _MESSAGES.get(kind) or str(err.get("msg", "Invalid value"))
        message = message.removeprefix("Value error, ").removeprefix("Assertion failed, ")
        if kind == "json_invalid":
            errors.append(FieldError(pointer="", detail="The body is not valid JSON"))
            continue
        source = loc.pop(0) if loc else "body"
        if source == "body":
            errors.append(FieldError(pointer=json_pointer(loc), detail=message))
        elif source == "header":
            errors.append(FieldError(header=str(loc[0]) if loc else "", detail=message))
        else:
            errors.append(FieldError(parameter=str(loc[0]) if loc else "", detail=message))
    return errors


class RateLimited(RetryLater):
    """Over a rate limit of ``TNLD_RATE_LIMIT_WRITES`` or ``TNLD_RATE_LIMIT_READS``."""

    status, slug, title = 429, "rate-limited", "Too many requests"
    explanation = (
        "Over the rate limit of this API key (or, without a valid key, of this address). "
        "Retry after `Retry-After` seconds."
    )


def problem_types() -> dict[str, type[Problem]]:
    """Every problem tnld answers with, by its slug (the pages of app/problems.py)."""
    found: dict[str, type[Problem]] = {}
    pending: list[type[Problem]] = [Problem]
    while pending:
        cls = pending.pop()
        found.setdefault(cls.slug, cls)
        pending += cls.__subclasses__()
    return found
