"""Organisations and API keys.

API keys are random, prefixed (``tnld_``) and stored only as HMAC-SHA256 under the service's
secret key, so a copy of the database does not yield usable keys.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app import clock
from app.audit.service import record
from app.auth.models import ApiKey, Organisation, OrganisationKind
from app.auth.principal import Principal
from app.auth.schemas import OrganisationCreate, OrganisationUpdate
from app.config import get_settings
from app.divisions.service import Level, divisions
from app.errors import Conflict, FieldError, NotFound, Unauthenticated, ValidationProblem
from app.notifications import targets
from app.notifications.compose import KEY_CREATED
from app.notifications.models import Channel
from app.notifications.outbox import enqueue
from app.notifications.routing import Route
from app.pagination import PageParams, paginate

KEY_PREFIX = "tnld_"
#: The outbox event that tells an organisation a key was created for it (by e-mail only).
KEY_CREATED_EVENT = KEY_CREATED
#: last_used_at is refreshed at most this often, so reads do not turn into writes.
LAST_USED_RESOLUTION = timedelta(minutes=1)


def hash_api_key(raw_key: str, secret: bytes | None = None) -> str:
    """HMAC-SHA256 of the key under ``secret`` (default: the current secret key)."""
    secret = secret if secret is not None else get_settings().secret_key_bytes
    return hmac.new(secret, raw_key.encode(), hashlib.sha256).hexdigest()


#: Every request pays for this lookup: built once, plain columns (no ORM entities), run on the
#: session's connection (no ORM execution layer).
_KEY_LOOKUP = (
    select(
        ApiKey.id,
        ApiKey.last_used_at,
        Organisation.id,
        Organisation.name,
        Organisation.kind,
        Organisation.commune_code,
        Organisation.district_code,
        Organisation.province_code,
    )
    .join(Organisation, ApiKey.organisation_id == Organisation.id)
    .where(ApiKey.key_hash == bindparam("key_hash"), ApiKey.revoked_at.is_(None))
)


def authenticate(session: Session, *, raw_key: str) -> Principal:
    """The principal behind a bearer key; revoked or unknown keys are refused alike."""
    if not raw_key.startswith(KEY_PREFIX) or len(raw_key) > 200:
        raise Unauthenticated("Invalid API key")
    current = hash_api_key(raw_key)
    row = session.connection().execute(_KEY_LOOKUP, {"key_hash": current}).first()
    rehash = False
    if row is None:
        # Hashed under an older key of the ring (TNLD_SECRET_KEY rotated): still valid, and
        # re-hashed under the current key now, so the old key can leave the ring later.
        for older in get_settings().secret_keys[1:]:
            row = (
                session.connection()
                .execute(_KEY_LOOKUP, {"key_hash": hash_api_key(raw_key, older)})
                .first()
            )
            if row is not None:
                rehash = True
                break
    if row is None:
        raise Unauthenticated("Invalid or revoked API key")
    key_id, last_used_at, organisation_id, name, kind, commune_code, district_code, province = row
    now = clock.now()
    if rehash:
        session.rollback()
        session.execute(
            update(ApiKey).where(ApiKey.id == key_id).values(key_hash=current, last_used_at=now)
        )
        session.commit()
    elif last_used_at is None or now - last_used_at > LAST_USED_RESOLUTION:
        # In a transaction of its own that begins with the write: on SQLite a read transaction
        # (GET requests begin deferred) that turns into a write can fail at once with
        # SQLITE_BUSY instead of waiting for the lock.
        session.rollback()
        session.execute(update(ApiKey).where(ApiKey.id == key_id).values(last_used_at=now))
        session.commit()
    return Principal(
        organisation_id=organisation_id,
        organisation_name=name,
        kind=OrganisationKind(kind),
        district_code=district_code,
        api_key_id=key_id,
        commune_code=commune_code,
        province_code=province,
    )


#: The area each kind must have (contract, Organisations and roles); police have exactly one of
#: theirs. ``True`` in the second place: a unit of today's map; ``False``: of the 2024 map.
_AREAS: dict[OrganisationKind, tuple[tuple[str, Level, bool], ...]] = {
    OrganisationKind.commune_committee: (("commune_code", "commune", True),),
    # Legacy: district committees and district police of accidents before 2025-07-01
    # (Resolution 1660/NQ-UBTVQH15 Art. 2; Decree 02/2025/NĐ-CP ended district police).
    OrganisationKind.district_committee: (("district_code", "district", False),),
    OrganisationKind.police: (
        ("commune_code", "commune", True),
        ("province_code", "province", True),
        ("district_code", "district", False),
    ),
}
_AREA_FIELDS = ("commune_code", "district_code", "province_code")


def _area_errors(data: OrganisationCreate) -> list[FieldError]:
    """The organisation's area: one code, of the map its kind names, checked against the data."""
    places = divisions()
    today = clock.vietnam_time(clock.now()).date()
    allowed = _AREAS.get(data.kind, ())
    given = [name for name in _AREA_FIELDS if getattr(data, name) is not None]
    errors: list[FieldError] = []
    for name in given:
        if name not in {field for field, _, _ in allowed}:
            errors.append(FieldError(pointer=f"/{name}", detail=f"A {data.kind} has no {name}"))
    for field, level, current in allowed:
        code = getattr(data, field)
        if code is None:
            continue
        if current:
            known = places.find(code, on=today, level=level) is not None
            where = f"a {level} of {places.map_label(today)}"
        else:
            known = any(u.valid_to is not None for u in places.versions(code, level=level))
            where = f"a {level} of the map before 2025-07-01"
        if not known:
            errors.append(FieldError(pointer=f"/{field}", detail=f"Unknown code: must be {where}"))
    if allowed and not errors:
        areas = [field for field, _, _ in allowed if getattr(data, field) is not None]
        if len(allowed) == 1 and not areas:
            field = allowed[0][0]
            errors.append(FieldError(pointer=f"/{field}", detail=f"A {data.kind} needs a {field}"))
        elif len(allowed) > 1 and len(areas) != 1:
            names = ", ".join(field for field, _, _ in allowed)
            errors.append(
                FieldError(
                    pointer=f"/{areas[1] if len(areas) > 1 else allowed[0][0]}",
                    detail=f"A {data.kind} needs exactly one area: one of {names}",
                )
            )
    return errors


def _check_organisation_rules(data: OrganisationCreate) -> None:
    """What each kind must have (contract, Organisations and roles)."""
    errors = _area_errors(data)
    has_channel = bool(data.notify_emails) or data.webhook_url is not None
    if data.kind is OrganisationKind.enterprise and data.tax_code is None:
        errors.append(FieldError(pointer="/tax_code", detail="An enterprise needs a tax code"))
    if data.kind in (OrganisationKind.police, OrganisationKind.inspectorate) and not has_channel:
        errors.append(
            FieldError(
                pointer="/notify_emails",
                detail=f"A {data.kind} needs at least one channel: notify_emails or webhook_url",
            )
        )
    if data.webhook_url is not None:
        problem = webhook_target_problem(data.webhook_url)
        if problem is not None:
            errors.append(FieldError(pointer="/webhook_url", detail=problem))
    if errors:
        raise ValidationProblem(errors)


def webhook_target_problem(url: str) -> str | None:
    """Why a webhook may not go to this URL (Security and privacy: webhook targets), or None.
    The signed report carries identity numbers: never to this machine or a private network,
    unless the deployment allows that network (``TNLD_WEBHOOK_ALLOWED_NETWORKS``)."""
    settings = get_settings()
    try:
        targets.check(
            url,
            https_only=settings.webhooks_need_https,
            allowed=settings.allowed_webhook_networks,
        )
    except targets.TargetRefused as exc:
        return exc.detail
    return None


def new_webhook_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


def create_organisation(
    session: Session, *, actor: Principal | None, data: OrganisationCreate
) -> Organisation:
    _check_organisation_rules(data)
    organisation = Organisation(
        id=uuid.uuid4(),
        name=data.name,
        kind=data.kind,
        commune_code=data.commune_code,
        district_code=data.district_code,
        province_code=data.province_code,
        tax_code=data.tax_code,
        notify_emails=list(dict.fromkeys(data.notify_emails or [])),
        webhook_url=data.webhook_url,
        webhook_secret=new_webhook_secret() if data.webhook_url else None,
        created_at=clock.now(),
    )
    session.add(organisation)
    session.flush()
    record(
        session,
        actor=actor,
        action="organisation.created",
        object_type="organisation",
        object_id=organisation.id,
        changes=data.model_dump(mode="json", exclude_none=True),
    )
    session.commit()
    return organisation


def list_organisations(
    session: Session, *, params: PageParams
) -> tuple[list[Organisation], str | None]:
    return paginate(
        session,
        select(Organisation),
        order=[(Organisation.created_at, datetime), (Organisation.id, uuid.UUID)],
        params=params,
        key=lambda o: (o.created_at, o.id),
    )


def update_organisation(
    session: Session, *, actor: Principal, organisation_id: uuid.UUID, data: OrganisationUpdate
) -> tuple[Organisation, str | None]:
    """Change an organisation's name or channels; returns it and, when a webhook was set where
    there was none, the new webhook secret (shown once)."""
    organisation = get_organisation(session, organisation_id=organisation_id)
    given = data.model_fields_set
    errors: list[FieldError] = []
    if "name" in given and data.name is None:
        errors.append(FieldError(pointer="/name", detail="must not be null"))
    if "webhook_url" in given and data.webhook_url is not None:
        problem = webhook_target_problem(data.webhook_url)
        if problem is not None:
            errors.append(FieldError(pointer="/webhook_url", detail=problem))
    emails = (
        list(dict.fromkeys(data.notify_emails or []))
        if "notify_emails" in given
        else organisation.notify_emails
    )
    url = data.webhook_url if "webhook_url" in given else organisation.webhook_url
    if (
        organisation.kind in (OrganisationKind.police, OrganisationKind.inspectorate)
        and not emails
        and url is None
    ):
        errors.append(
            FieldError(
                pointer="/notify_emails",
                detail=f"A {organisation.kind} needs at least one channel: notify_emails or "
                "webhook_url",
            )
        )
    if errors:
        raise ValidationProblem(errors)
    new_secret = None
    if data.name is not None:
        organisation.name = data.name
    organisation.notify_emails = emails
    if url is None:
        organisation.webhook_secret = None
        organisation.previous_webhook_secret = None
        organisation.webhook_secret_rotated_at = None
    elif organisation.webhook_secret is None:
        new_secret = organisation.webhook_secret = new_webhook_secret()
    organisation.webhook_url = url
    record(
        session,
        actor=actor,
        action="organisation.updated",
        object_type="organisation",
        object_id=organisation.id,
        changes=data.model_dump(mode="json", exclude_unset=True),
    )
    session.commit()
    return organisation, new_secret


def rotate_webhook_secret(session: Session, *, actor: Principal, organisation_id: uuid.UUID) -> str:
    """A new webhook secret; the old one keeps signing too for 24 hours."""
    organisation = get_organisation(session, organisation_id=organisation_id)
    if organisation.webhook_url is None:
        raise Conflict("The organisation has no webhook_url")
    secret = new_webhook_secret()
    organisation.previous_webhook_secret = organisation.webhook_secret
    organisation.webhook_secret = secret
    organisation.webhook_secret_rotated_at = clock.now()
    record(
        session,
        actor=actor,
        action="organisation.webhook_secret_rotated",
        object_type="organisation",
        object_id=organisation.id,
    )
    session.commit()
    return secret


def get_organisation(session: Session, *, organisation_id: uuid.UUID) -> Organisation:
    organisation = session.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFound("No such organisation")
    return organisation


def issue_api_key(
    session: Session, *, actor: Principal | None, organisation_id: uuid.UUID, label: str | None
) -> tuple[ApiKey, str]:
    """A new key for the organisation; the raw key is returned once and never stored."""
    organisation = get_organisation(session, organisation_id=organisation_id)
    raw_key = KEY_PREFIX + secrets.token_urlsafe(32)
    key = ApiKey(
        id=uuid.uuid4(),
        organisation_id=organisation.id,
        label=label,
        prefix=raw_key[: len(KEY_PREFIX) + 6],
        key_hash=hash_api_key(raw_key),
        created_at=clock.now(),
    )
    session.add(key)
    session.flush()
    if organisation.notify_emails:
        _tell_of_new_key(session, organisation=organisation, key=key, actor=actor)
    record(
        session,
        actor=actor,
        action="api_key.created",
        object_type="api_key",
        object_id=key.id,
        changes={"organisation_id": str(organisation.id), "label": label, "prefix": key.prefix},
    )
    session.commit()
    return key, raw_key


def _tell_of_new_key(
    session: Session, *, organisation: Organisation, key: ApiKey, actor: Principal | None
) -> None:
    """The organisation learns by e-mail that a key was made for it (contract, Security and
    privacy: a key nobody asked for is then revoked, not used for months). Through the outbox,
    in the key's transaction: the notice exists if and only if the key does. Never the key
    itself: which key (id, label), when, and by whom."""
    enqueue(
        session,
        report_id=None,
        event_type=KEY_CREATED_EVENT,
        payload={
            "organisation": {"id": str(organisation.id), "name": organisation.name},
            "api_key": {
                "id": str(key.id),
                "label": key.label,
                "created_at": key.created_at.isoformat(),
            },
            "created_by": (
                {
                    "organisation_id": str(actor.organisation_id),
                    "organisation_name": actor.organisation_name,
                    "api_key_id": str(actor.api_key_id) if actor.api_key_id else None,
                }
                if actor is not None
                else None
            ),
        },
        routes=[Route(organisation.id, Channel.email, organisation.name, organisation.kind)],
    )


def list_api_keys(session: Session, *, organisation_id: uuid.UUID) -> list[ApiKey]:
    get_organisation(session, organisation_id=organisation_id)
    return list(
        session.scalars(
            select(ApiKey)
            .where(ApiKey.organisation_id == organisation_id)
            .order_by(ApiKey.created_at, ApiKey.id)
        )
    )


def revoke_api_key(session: Session, *, actor: Principal, key_id: uuid.UUID) -> None:
    """Revoke a key; it stops working at once. Revoking a revoked key changes nothing."""
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound("No such API key")
    if key.revoked_at is None:
        key.revoked_at = clock.now()
        record(
            session,
            actor=actor,
            action="api_key.revoked",
            object_type="api_key",
            object_id=key.id,
            changes={"revoked_at": key.revoked_at.isoformat()},
        )
    session.commit()


def bootstrap_admin(session: Session, *, name: str) -> tuple[Organisation, str]:
    """Create an admin organisation and its first key (command line, no caller)."""
    organisation = create_organisation(
        session, actor=None, data=OrganisationCreate(name=name, kind=OrganisationKind.admin)
    )
    _, raw_key = issue_api_key(
        session, actor=None, organisation_id=organisation.id, label="bootstrap"
    )
    return organisation, raw_key
