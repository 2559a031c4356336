"""Settings, read from ``TNLD_*`` environment variables and validated at start."""

from __future__ import annotations

import os
import re
import secrets
from datetime import timedelta
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.notifications.targets import IPNetwork, parse_networks

DEFAULT_RETRY_SCHEDULE = "5s,5m,30m,2h,5h,10h,14h,20h,24h"
SECRET_KEY_FILE = ".tnld-secret-key"  # noqa: S105 (a file name, not a secret)
MIN_SECRET_KEY_LENGTH = 32

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$")
_UNIT_SECONDS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_retry_schedule(value: str) -> list[timedelta]:
    """Parse ``"5s,5m,30m"`` into delays. Units: ms, s, m, h, d."""
    delays = []
    for part in value.split(","):
        match = _DURATION.match(part)
        if not match:
            raise ValueError(f"invalid delay {part.strip()!r} (use e.g. 5s, 5m, 2h)")
        delays.append(timedelta(seconds=float(match[1]) * _UNIT_SECONDS[match[2]]))
    return delays


def strong_key(key: str) -> bool:
    """Long enough, varied enough, and not a pattern repeated (``abcdefghij`` × 4)."""
    if len(key) < MIN_SECRET_KEY_LENGTH or len(set(key)) < 10:
        return False
    for period in range(1, len(key) // 2 + 1):
        unit = key[:period]
        if (unit * (len(key) // period + 1)).startswith(key):
            return False
    return True


def describe(exc: ValidationError) -> str:
    """A settings error for people: the setting's name and what is wrong, never the value
    given (it may be a secret)."""
    lines = []
    for error in exc.errors(include_input=False, include_url=False, include_context=False):
        location = "_".join(str(part) for part in error["loc"]).upper()
        name = f"TNLD_{location}" if location else "settings"
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"  {name}: {message}")
    return "\n".join(lines)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="TNLD_", extra="ignore")

    env: Literal["development", "production"] = "development"
    #: Serve /docs; unset: yes in development, no in production.
    docs: bool | None = None
    database_url: str = "sqlite:///tnld.db"
    secret_key: SecretStr | None = None

    smtp_host: str | None = None
    smtp_port: int | None = None
    smtp_from: str = "tnld@localhost"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: Literal["none", "starttls", "tls"] = "none"
    #: Where e-mails go as ``.eml`` files when no SMTP host is configured.
    mail_dir: Path = Path("mail-outbox")

    retry_schedule: str = DEFAULT_RETRY_SCHEDULE
    worker_poll_seconds: float = Field(default=1.0, gt=0)
    embedded_worker: bool = True
    #: How much the delivery worker process lowers its CPU priority (``nice``, 0–19): where it
    #: shares the CPUs with the API, a request waiting for a CPU goes first and the deliveries
    #: take every cycle the requests leave. A delivery needs under a millisecond of CPU, so
    #: even the lowest priority sends one within a fraction of a second on a saturated machine;
    #: only the drain of a large backlog waits for the load to ease (bench/README.md,
    #: Notifications).
    worker_nice: int = Field(default=19, ge=0, le=19)
    #: Which accepted reports go to the police (contract, Notifications): ``notifiable`` every
    #: one (the Đắk Lắk plan), ``fatal`` only those with a death (Law 84/2015 Art. 34.1.b).
    notify_police: Literal["notifiable", "fatal"] = "notifiable"
    #: How long a claimed delivery stays with its worker; a worker that died loses it after this.
    lease_seconds: float = Field(default=60.0, gt=0)
    webhook_timeout_seconds: float = Field(default=15.0, gt=0)
    #: Networks webhooks may reach although they are private or loopback (comma-separated
    #: CIDRs): a deployment's own receivers. Empty: only public addresses.
    webhook_allowed_networks: str = ""

    #: Per API key (and per client address without a valid key); ``0`` turns a limit off.
    rate_limit_writes: str = "120/minute"
    rate_limit_reads: str = "1200/minute"
    #: Where rate-limit counters live when several processes serve (``redis://host:6379/0``);
    #: unset: in each process's memory.
    redis_url: SecretStr | None = None

    db_pool_size: int = Field(default=10, ge=1)
    #: Threads per server process that run the request handlers' blocking (database) work.
    #: Python runs one thread at a time: beyond a few, threads only queue for the interpreter
    #: lock and cost CPU in hand-overs (bench/README.md, Intake: 4 threads filed 40% more
    #: reports per second than 40 on two CPUs). Slow requests (statistics, exports) share them.
    request_threads: int = Field(default=4, ge=1, le=256)
    db_max_overflow: int = Field(default=20, ge=0)
    #: Requests one server process handles at once (app.admission); /healthz is not counted.
    #: Past it a request waits up to ``admission_wait_seconds`` for a place, then gets 503.
    #: Waiting requests hold no connection, transaction or thread; the limit bounds the time
    #: an admitted request may wait for a request thread (64 reports take ~0.2 s).
    max_requests_in_flight: int = Field(default=64, ge=1)
    admission_wait_seconds: float = Field(default=1.0, ge=0, le=60)

    # Operations (CONTRACT.md, Operations; README.md, Operations).
    #: Bearer token for ``GET /metrics``; unset: only callers on the loopback interface.
    metrics_token: SecretStr | None = None
    #: ``json`` (one object per line) or ``text``; default: json in production, else text.
    log_format: Literal["json", "text"] | None = None
    #: How long idempotency records are kept (the contract: at least 24 hours).
    idempotency_ttl: str = "7d"
    #: A fatal report's labour-authority notice not acknowledged after this is sent again.
    ack_escalation: str = "2h"
    #: When, in Vietnam time on each working day, the labour authority gets the deadline digest.
    deadline_digest_at: str = "07:00"
    #: Failed logins allowed per account and per client address in 15 minutes (0: no limit).
    login_attempts: int = Field(default=5, ge=0)
    #: A web session ends after this long without a request, and in any case this long after
    #: the login (OWASP Session Management: idle and absolute timeouts).
    session_idle_minutes: int = Field(default=60, ge=1)
    session_absolute_hours: int = Field(default=12, ge=1)
    #: Argon2id cost: ``standard`` (RFC 9106's second recommended option, 64 MiB, 3 passes);
    #: ``fast`` is for test suites only and is refused in production.
    password_hashing: Literal["standard", "fast"] = "standard"  # noqa: S105 - a cost, not a secret

    @field_validator("retry_schedule")
    @classmethod
    def _check_schedule(cls, value: str) -> str:
        parse_retry_schedule(value)
        return value

    @field_validator("webhook_allowed_networks")
    @classmethod
    def _check_networks(cls, value: str) -> str:
        try:
            parse_networks(value)
        except ValueError:
            raise ValueError("must be comma-separated CIDRs, e.g. 10.1.0.0/16") from None
        return value

    @field_validator("rate_limit_writes", "rate_limit_reads")
    @classmethod
    def _check_limit(cls, value: str) -> str:
        from limits import parse

        if value.strip() not in ("", "0"):
            try:
                parse(value)
            except ValueError:
                raise ValueError("must be e.g. 120/minute, or 0 for no limit") from None
        return value

    @field_validator("idempotency_ttl")
    @classmethod
    def _check_idempotency_ttl(cls, value: str) -> str:
        (ttl,) = parse_retry_schedule(value)
        if ttl < timedelta(hours=24):
            raise ValueError("TNLD_IDEMPOTENCY_TTL must be at least 24h (CONTRACT.md, Operations)")
        return value

    @field_validator("deadline_digest_at")
    @classmethod
    def _check_digest_time(cls, value: str) -> str:
        if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", value.strip()):
            raise ValueError("TNLD_DEADLINE_DIGEST_AT must be a time of day such as 07:00")
        return value

    @field_validator("ack_escalation")
    @classmethod
    def _check_ack_escalation(cls, value: str) -> str:
        parse_retry_schedule(value)
        return value

    @field_validator("smtp_host", "smtp_username")
    @classmethod
    def _blank_is_unset(cls, value: str | None) -> str | None:
        return value or None

    @model_validator(mode="after")
    def _production_needs_a_strong_key(self) -> Settings:
        if self.env == "production":
            keys = self.secret_keys_text()
            if not keys or not all(strong_key(key) for key in keys):
                # Names the setting, never its value (Security and privacy: secrets).
                raise ValueError(
                    "TNLD_SECRET_KEY must be set to strong random values in production: each "
                    f"key at least {MIN_SECRET_KEY_LENGTH} characters, at least 10 different "
                    "characters, and not a repeated pattern"
                )
        return self

    @model_validator(mode="after")
    def _production_hashes_passwords_properly(self) -> Settings:
        if self.env == "production" and self.password_hashing != "standard":  # noqa: S105
            raise ValueError("TNLD_PASSWORD_HASHING=fast is for tests only, not production")
        return self

    def secret_keys_text(self) -> list[str]:
        """The key ring as given: comma-separated, the first current."""
        if self.secret_key is None:
            return []
        return [k.strip() for k in self.secret_key.get_secret_value().split(",") if k.strip()]

    @property
    def allowed_webhook_networks(self) -> list[IPNetwork]:
        return parse_networks(self.webhook_allowed_networks)

    @property
    def docs_enabled(self) -> bool:
        return self.docs if self.docs is not None else self.env != "production"

    @property
    def webhooks_need_https(self) -> bool:
        return self.env == "production"

    @property
    def retry_delays(self) -> list[timedelta]:
        return parse_retry_schedule(self.retry_schedule)

    @property
    def idempotency_keep(self) -> timedelta:
        return parse_retry_schedule(self.idempotency_ttl)[0]

    @property
    def ack_escalation_after(self) -> timedelta:
        return parse_retry_schedule(self.ack_escalation)[0]

    @property
    def effective_log_format(self) -> str:
        if self.log_format is not None:
            return self.log_format
        return "json" if self.env == "production" else "text"

    @property
    def effective_smtp_port(self) -> int:
        if self.smtp_port is not None:
            return self.smtp_port
        return {"none": 25, "starttls": 587, "tls": 465}[self.smtp_tls]

    @property
    def secret_key_bytes(self) -> bytes:
        """The current key (the first of the ring)."""
        return self.secret_keys[0]

    @cached_property
    def secret_keys(self) -> list[bytes]:
        """The key ring, the current key first: older keys still verify what they signed
        (API keys are re-hashed under the current one when used). In development, when unset,
        one key is generated once and kept in a file."""
        ring = self.secret_keys_text()
        if ring:
            return [key.encode() for key in ring]
        path = Path(SECRET_KEY_FILE)
        if not path.exists():
            # Created readable by this user only, never for a moment by others.
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as file:
                file.write(secrets.token_urlsafe(48) + "\n")
        return [path.read_text().strip().encode()]


@lru_cache
def get_settings() -> Settings:
    return Settings()
