"""Engine, sessions and column types shared by every domain package.

The same code and the same Alembic migrations run on SQLite (the embedded default) and on
PostgreSQL. Reports are legal records, so SQLite runs with WAL, ``synchronous=FULL`` and a busy
timeout, and every transaction that may write starts with ``BEGIN IMMEDIATE`` so that
concurrent writers wait for the lock instead of failing with "database is locked" (reads begin
deferred: ``READ_ONLY``).
"""

from __future__ import annotations

import logging
import os
import uuid
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import URL, Dialect, Engine, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import JSON, TypeDecorator

from app.config import get_settings

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

SQLITE_BUSY_TIMEOUT_MS = 30_000


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """An aware timestamp stored in UTC on every database (SQLite has no time zones)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTCDateTime column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: JSON on SQLite, JSONB on PostgreSQL.
JSONDocument = JSON().with_variant(JSONB(), "postgresql")


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def normalise_url(raw: str) -> URL:
    """Accept plain ``sqlite:///`` and ``postgresql://`` URLs and pick the driver ourselves."""
    url = make_url(raw)
    if url.drivername in ("postgresql", "postgres", "postgresql+psycopg2"):
        url = url.set(drivername="postgresql+psycopg")
    elif url.drivername == "sqlite":
        url = url.set(drivername="sqlite+pysqlite")
    return url


logger = logging.getLogger(__name__)

_SQLITE_BEGIN = "tnld_sqlite_begin"
#: Execution options of a session that only reads (HTTP GET and HEAD).
READ_ONLY = {_SQLITE_BEGIN: "DEFERRED"}


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A deferred transaction that later writes can fail at once with SQLITE_BUSY; taking
        # the write lock up front makes concurrent writers queue on the busy timeout instead.
        # Reads (READ_ONLY) begin deferred: in WAL mode they then block no writer, even while
        # the request waits for a thread with its transaction open.
        if connection.get_execution_options().get(_SQLITE_BEGIN) == "DEFERRED":
            connection.exec_driver_sql("BEGIN DEFERRED")
        else:
            connection.exec_driver_sql("BEGIN IMMEDIATE")


def _private_file(database: str | None) -> None:
    """The SQLite file holds personal data: readable by the service's user only (its -wal and
    -shm files take the database file's mode)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    try:
        os.close(os.open(database, os.O_CREAT | os.O_RDWR, 0o600))
        os.chmod(database, 0o600)
    except OSError:
        pass  # a read-only or foreign file: SQLite reports what matters when it opens it


def build_engine(raw_url: str | None = None) -> Engine:
    settings = get_settings()
    url = normalise_url(raw_url or settings.database_url)
    if url.get_backend_name() == "sqlite":
        _private_file(url.database)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            # Sized as on PostgreSQL (SQLAlchemy's default for a file is 5 + 10): the request
            # threads and the embedded worker's senders (16) each hold one connection at most.
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            hide_parameters=True,
        )
        _configure_sqlite(engine)
        return engine
    return create_engine(
        url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_pre_ping=True,
        # Statement parameters carry names and identity numbers: never in logs or errors.
        hide_parameters=True,
    )


_engine: Engine | None = None
_session_factory: sessionmaker[Session] | None = None
_read_only_session_factory: sessionmaker[Session] | None = None
_lookup_session_factory: sessionmaker[Session] | None = None


def get_engine() -> Engine:
    global _engine, _session_factory, _read_only_session_factory, _lookup_session_factory
    if _engine is None:
        _engine = build_engine()
        _session_factory = sessionmaker(_engine, expire_on_commit=False)
        _read_only_session_factory = sessionmaker(
            _engine.execution_options(**READ_ONLY), expire_on_commit=False
        )
        # PostgreSQL: autocommit, so a lookup costs its statement and no BEGIN or ROLLBACK
        # round trip; SQLite: a deferred read (no write lock).
        lookup = (
            {"isolation_level": "AUTOCOMMIT"} if _engine.dialect.name == "postgresql" else READ_ONLY
        )
        _lookup_session_factory = sessionmaker(
            _engine.execution_options(**lookup), expire_on_commit=False
        )
    return _engine


def reset_engine() -> None:
    """Forget the engine (after settings changed, e.g. in tests)."""
    global _engine, _session_factory, _read_only_session_factory, _lookup_session_factory
    if _engine is not None:
        _engine.dispose()
    _engine = None
    _session_factory = None
    _read_only_session_factory = None
    _lookup_session_factory = None


def session_factory() -> sessionmaker[Session]:
    get_engine()
    assert _session_factory is not None
    return _session_factory


def lookup_session() -> Session:
    """A session for a short lookup done apart from the request's own work (authentication),
    to be closed in the thread that used it: its connection goes back to the pool before the
    request waits for anything."""
    get_engine()
    assert _lookup_session_factory is not None
    return _lookup_session_factory()


#: ``Session.info`` keys set by :func:`request_session`.
REQUEST_INFO = "tnld_request"
READS_ONLY_INFO = "tnld_reads_only"


def request_session(*, method: str, path: str) -> Session:
    """A request's session (app/deps.py). It checks a connection out at its first statement.
    GET and HEAD requests only read: their session begins its transactions as reads (on
    SQLite, without the database's write lock)."""
    get_engine()
    reads_only = method in ("GET", "HEAD")
    factory = _read_only_session_factory if reads_only else _session_factory
    assert factory is not None
    return factory(info={REQUEST_INFO: f"{method} {path}", READS_ONLY_INFO: reads_only})


def release(session: Session, *, succeeded: bool) -> None:
    """End the request's session in the thread that used it (the endpoint's): roll back what a
    read or a failed write left open, and give the connection back to the pool."""
    if succeeded and session.in_transaction() and not session.info.get(READS_ONLY_INFO, True):
        # A write that succeeded commits before it returns; a transaction opened after the
        # commit (a lazy load while serialising) is a bug. The tests fail on this message.
        logger.warning("%s left a transaction open", session.info.get(REQUEST_INFO, "a request"))
    session.close()


def is_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"
