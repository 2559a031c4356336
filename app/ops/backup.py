"""``tnld backup --to FILE`` and ``tnld restore --from FILE``.

SQLite: the online backup API copies the database page by page while the service keeps
serving; the copy is one consistent snapshot (a write during the copy restarts it, as SQLite
documents). PostgreSQL: ``pg_dump`` in its custom format (one transaction, a consistent
snapshot, concurrent writers not blocked) and ``pg_restore``; both must be installed (the
PostgreSQL client tools, the same major version as the server or newer).

A restore goes only into an empty database: it never mixes a backup with other rows.
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import inspect
from sqlalchemy.engine import make_url

from app.db import get_engine


class BackupError(Exception):
    """What went wrong, in words for the operator."""


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


def _libpq_uri(url: str) -> str:
    """The SQLAlchemy URL as pg_dump/pg_restore take it (no ``+driver``)."""
    parsed = make_url(url).set(drivername="postgresql")
    return parsed.render_as_string(hide_password=False)


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} is not installed: install the PostgreSQL client tools "
            f"(Debian: apt-get install postgresql-client) of the server's major version or newer"
        )
    return path


def backup(*, url: str, to: Path) -> None:
    if to.exists():
        raise BackupError(f"{to} exists already; choose a new file")
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        source = sqlite3.connect(_sqlite_path(url))
        target = sqlite3.connect(to)
        try:
            with target:
                source.backup(target, pages=1024)
        finally:
            target.close()
            source.close()
    elif backend == "postgresql":
        _run([_tool("pg_dump"), "--format=custom", "--no-owner", f"--file={to}", _libpq_uri(url)])
    else:
        raise BackupError(f"no backup for {backend} databases")


def restore(*, url: str, source: Path) -> None:
    if not source.is_file():
        raise BackupError(f"{source} is not a file")
    if inspect(get_engine()).get_table_names():
        raise BackupError("the target database is not empty: restore only into an empty one")
    backend = make_url(url).get_backend_name()
    if backend == "sqlite":
        origin = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
        target = sqlite3.connect(_sqlite_path(url))
        try:
            with target:
                origin.backup(target)
        finally:
            target.close()
            origin.close()
    elif backend == "postgresql":
        _run(
            [
                _tool("pg_restore"),
                "--no-owner",
                "--exit-on-error",
                "--single-transaction",
                f"--dbname={_libpq_uri(url)}",
                str(source),
            ]
        )
    else:
        raise BackupError(f"no restore for {backend} databases")


def _run(command: list[str]) -> None:
    # Our own arguments (the tool's path, the configured database, the operator's file).
    result = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        raise BackupError(f"{Path(command[0]).name} failed: {result.stderr.strip()}")
