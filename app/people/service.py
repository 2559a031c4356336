"""People and their sessions: Argon2id passwords, server-side sessions, login throttling.

OWASP ASVS v4 chapters 2 and 3: passwords hashed with Argon2id; a new session id at every login;
the cookie holds a random token whose hash alone is stored; idle and absolute timeouts; logout
ends the session on the server; failed logins are throttled per account and per address.
"""

from __future__ import annotations

import contextlib
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import timedelta
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import record
from app.auth.models import Organisation
from app.auth.principal import Principal
from app.config import get_settings
from app.errors import Conflict, NotFound
from app.people.models import LoginFailure, User, WebSession

#: The throttling window (contract: TNLD_LOGIN_ATTEMPTS per 15 minutes).
LOGIN_WINDOW = timedelta(minutes=15)
#: last_seen_at is refreshed at most this often, so that reading pages does not write each time.
SEEN_RESOLUTION = timedelta(minutes=1)
MIN_PASSWORD_LENGTH = 12


@lru_cache
def _hasher(mode: str) -> PasswordHasher:
    if mode == "fast":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    # RFC 9106 §4, second recommended option: Argon2id, t=3, 64 MiB, p=4.
    return PasswordHasher(time_cost=3, memory_cost=64 * 1024, parallelism=4)


def hasher() -> PasswordHasher:
    return _hasher(get_settings().password_hashing)


def hash_password(password: str) -> str:
    return hasher().hash(password)


#: Verified against when the account does not exist, so that timing does not tell which
#: addresses have accounts.
_DUMMY_HASH: dict[str, str] = {}


def _verify(password_hash: str | None, password: str) -> bool:
    mode = get_settings().password_hashing
    if password_hash is None:
        password_hash = _DUMMY_HASH.setdefault(mode, hasher().hash(secrets.token_hex(16)))
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher().verify(password_hash, password)
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    """16 characters of URL-safe base64: 96 bits."""
    return secrets.token_urlsafe(12)


def normalise_email(email: str) -> str:
    """For comparing: one person per address whatever its letters' case."""
    return email.strip().lower()


def create_user(
    session: Session,
    *,
    actor: Principal | None,
    organisation_id: uuid.UUID,
    email: str,
    full_name: str,
    password: str,
) -> User:
    """A person of an organisation (the caller checked the password's length)."""
    if session.get(Organisation, organisation_id) is None:
        raise NotFound("No such organisation")
    email = email.strip()
    same = func.lower(User.email) == normalise_email(email)
    if session.scalar(select(User.id).where(same)) is not None:
        raise Conflict("A person with this e-mail address already exists")
    user = User(
        organisation_id=organisation_id,
        email=email,
        full_name=full_name,
        password_hash=hash_password(password),
        created_at=clock.now(),
    )
    session.add(user)
    try:
        session.flush()
    except IntegrityError:  # the same address created at the same moment
        session.rollback()
        raise Conflict("A person with this e-mail address already exists") from None
    record(
        session,
        actor=actor,
        action="user.created",
        object_type="user",
        object_id=user.id,
        changes={"organisation_id": str(organisation_id)},
    )
    session.commit()
    return user


def list_users(session: Session, *, organisation_id: uuid.UUID) -> list[User]:
    return list(
        session.scalars(
            select(User).where(User.organisation_id == organisation_id).order_by(User.email)
        )
    )


class LoginRefused(Exception):
    """Wrong e-mail or password (never says which), or too many failures lately."""

    def __init__(self, *, throttled: bool) -> None:
        super().__init__("throttled" if throttled else "refused")
        self.throttled = throttled


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _throttled(session: Session, subjects: list[str]) -> bool:
    limit = get_settings().login_attempts
    if limit == 0:
        return False
    since = clock.now() - LOGIN_WINDOW
    for subject in subjects:
        failures = session.scalar(
            select(func.count())
            .select_from(LoginFailure)
            .where(LoginFailure.subject == subject, LoginFailure.failed_at > since)
        )
        if (failures or 0) >= limit:
            return True
    return False


@dataclass(frozen=True)
class LoggedIn:
    token: str
    csrf_token: str
    user: User


def log_in(session: Session, *, email: str, password: str, address: str) -> LoggedIn:
    """A new session for the person (a new id at every login: no session fixation)."""
    email = normalise_email(email)
    subjects = [f"account:{email}"[:400], f"address:{address}"[:400]]
    if _throttled(session, subjects):
        raise LoginRefused(throttled=True)
    user = session.scalar(select(User).where(func.lower(User.email) == email))
    if not _verify(user.password_hash if user else None, password) or user is None:
        now = clock.now()
        session.execute(delete(LoginFailure).where(LoginFailure.failed_at <= now - LOGIN_WINDOW))
        session.add_all(LoginFailure(subject=s, failed_at=now) for s in subjects)
        session.commit()
        raise LoginRefused(throttled=False)
    if hasher().check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    now = clock.now()
    token = secrets.token_urlsafe(32)
    web_session = WebSession(
        token_hash=_token_hash(token),
        user_id=user.id,
        csrf_token=secrets.token_urlsafe(32),
        created_at=now,
        last_seen_at=now,
    )
    session.add(web_session)
    session.execute(delete(LoginFailure).where(LoginFailure.subject == subjects[0]))
    session.commit()
    return LoggedIn(token=token, csrf_token=web_session.csrf_token, user=user)


@dataclass(frozen=True)
class Person:
    """Who is behind a web request: the person, their organisation, the session."""

    user_id: uuid.UUID
    full_name: str
    email: str
    csrf_token: str
    principal: Principal


def person_for(session: Session, *, token: str) -> Person | None:
    """The person of a live session; None when the token is unknown or the session expired
    (an expired one is deleted)."""
    settings = get_settings()
    row = session.execute(
        select(WebSession, User, Organisation)
        .join(User, WebSession.user_id == User.id)
        .join(Organisation, User.organisation_id == Organisation.id)
        .where(WebSession.token_hash == _token_hash(token))
    ).first()
    if row is None:
        return None
    web_session, user, organisation = row
    now = clock.now()
    idle = timedelta(minutes=settings.session_idle_minutes)
    absolute = timedelta(hours=settings.session_absolute_hours)
    if now - web_session.last_seen_at > idle or now - web_session.created_at > absolute:
        session.delete(web_session)
        session.commit()
        return None
    if now - web_session.last_seen_at > SEEN_RESOLUTION:
        web_session.last_seen_at = now
        session.commit()
    return Person(
        user_id=user.id,
        full_name=user.full_name,
        email=user.email,
        csrf_token=web_session.csrf_token,
        principal=Principal(
            organisation_id=organisation.id,
            organisation_name=organisation.name,
            kind=organisation.kind,
            district_code=organisation.district_code,
            api_key_id=None,
            commune_code=organisation.commune_code,
            province_code=organisation.province_code,
        ),
    )


def log_out(session: Session, *, token: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == _token_hash(token)))
    session.commit()
