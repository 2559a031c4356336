"""FastAPI dependencies: the session, the calling principal, and role checks."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app.auth.principal import Principal
from app.auth.service import authenticate
from app.db import lookup_session
from app.errors import Forbidden, Unauthenticated
from app.ops.logs import note_principal
from app.policy import Action, may
from app.ratelimit import limiter

_bearer = HTTPBearer(auto_error=False, description="An API key issued by an administrator.")


def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """Runs in a request thread, with a session of its own closed before the thread is given
    back: the request then waits for a thread for its endpoint holding no connection, no
    transaction and no lock (on PostgreSQL the lookup runs in autocommit: no BEGIN, no
    ROLLBACK). Holding the lookup's transaction across that wait let a burst of requests take
    the whole pool while the threads waited for it (issue 8)."""
    limits = limiter()
    if credentials is None:
        # Counted per address already, before routing (app.ratelimit.AddressLimit).
        raise Unauthenticated()
    try:
        with lookup_session() as session:
            principal = authenticate(session, raw_key=credentials.credentials)
    except Unauthenticated:
        # Without a valid key, the client's address is what is counted (guessing keys costs
        # the guesser its address's allowance).
        limits.hit(method=request.method, identity=f"addr:{client_address(request)}")
        raise
    note_principal(organisation_id=principal.organisation_id, api_key_id=principal.api_key_id)
    limits.hit(method=request.method, identity=f"key:{principal.api_key_id}")
    return principal


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def require(action: Action) -> Callable[[Principal], Awaitable[Principal]]:
    """A dependency that admits only organisations that may do ``action`` (app/policy.py;
    403 for the others).

    Async because it does no I/O: it runs on the event loop, not in a worker thread."""

    async def check(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
        if not may(principal, action):
            raise Forbidden(f"An organisation of kind {principal.kind} may not do this")
        return principal

    return check


AdminDep = Annotated[Principal, Depends(require(Action.administer))]
PrincipalDep = Annotated[Principal, Depends(current_principal)]
