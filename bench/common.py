"""What every benchmark here shares: free ports, percentiles, PostgreSQL databases made and
dropped for a run. (A script beside the others: on sys.path when they run as scripts.)"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NoReturn

#: The checkout the benchmarks measure.
ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile by nearest rank over the sorted values (NaN for none)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))]


def _server_conninfo(url: str) -> tuple[str, str]:
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    assert parsed.database, "the URL must name a database"
    server = parsed.set(drivername="postgresql", database="postgres")
    return server.render_as_string(hide_password=False), parsed.database


def recreate_database(url: str) -> None:
    import psycopg

    conninfo, name = _server_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def drop_database(url: str) -> None:
    import psycopg

    conninfo, name = _server_conninfo(url)
    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def postgres_database(url: str, *, keep: bool = False) -> Iterator[None]:
    """A fresh database for the run, dropped at the end (unless ``keep``)."""
    recreate_database(url)
    try:
        yield
    finally:
        if not keep:
            drop_database(url)


def run_in_process(
    run: Callable[[], int], *, database_url: str, secret_key: str, keep: bool = False
) -> NoReturn:
    """Run a benchmark that uses the service's code in this process, on a fresh database
    (dropped afterwards unless ``keep``), and exit with its code. The service's settings come
    from the environment: they are set before it is imported."""
    os.environ["TNLD_DATABASE_URL"] = database_url
    os.environ["TNLD_SECRET_KEY"] = secret_key
    os.environ["TNLD_EMBEDDED_WORKER"] = "false"
    sys.path.insert(0, str(ROOT))
    with postgres_database(database_url, keep=keep):
        try:
            code = run()
        finally:
            from app.db import reset_engine

            reset_engine()
    raise SystemExit(code)
