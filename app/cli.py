"""The ``tnld`` command: serve | worker | migrate | bootstrap-admin | create-user | backup |
restore | verify-audit | demo."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import tempfile

from pydantic import ValidationError

#: prometheus_client's multiprocess mode: where each server process writes its counters.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"


def _serve(args: argparse.Namespace) -> None:
    import uvicorn

    from app.config import get_settings
    from app.http_guard import GuardedHttpToolsProtocol
    from app.migrations import upgrade
    from app.notifications.supervisor import WorkerSupervisor
    from app.ops.logs import uvicorn_log_config

    upgrade()
    if args.workers > 1 and not os.environ.get(MULTIPROCESS_ENV):
        # Request metrics of every server process, summed at scrape (app.ops.metrics).
        os.environ[MULTIPROCESS_ENV] = tempfile.mkdtemp(prefix="tnld-metrics-")
    # The delivery worker runs in its own process (app.notifications.supervisor), one for all
    # server processes.
    supervisor = WorkerSupervisor() if get_settings().embedded_worker else None
    if supervisor is not None:
        supervisor.start()
    # uvicorn shuts down on SIGTERM/SIGINT and then raises the signal again (for the usual exit
    # status) with the handlers it found: ours only notes it, so the worker is stopped first.
    received: list[int] = []
    for handled in (signal.SIGTERM, signal.SIGINT):
        signal.signal(handled, lambda signum, _frame: received.append(signum))
    try:
        uvicorn.run(
            "app.main:create_app",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            log_config=uvicorn_log_config(get_settings().effective_log_format),
            # Each request is logged once by tnld (app.ops.middleware), with its route template
            # rather than the raw path and query, which could carry anything a client put there.
            access_log=False,
            proxy_headers=True,
            # Headers over 16 KiB → 431; unfinished after 10 s → closed (app.http_guard).
            http=GuardedHttpToolsProtocol,
            server_header=False,
        )
    finally:
        if supervisor is not None:
            supervisor.stop()
    for signum in received[:1]:
        signal.signal(signum, signal.SIG_DFL)
        signal.raise_signal(signum)


def _worker(_args: argparse.Namespace) -> None:
    from app.migrations import upgrade
    from app.notifications.supervisor import die_with_supervisor
    from app.notifications.worker import run_worker

    die_with_supervisor()
    upgrade()
    run_worker()


def _migrate(_args: argparse.Namespace) -> None:
    from app.migrations import upgrade

    upgrade()
    print("database is at the latest revision")


def _bootstrap_admin(args: argparse.Namespace) -> None:
    from app.auth.service import bootstrap_admin
    from app.db import session_factory
    from app.migrations import upgrade

    upgrade()
    with session_factory()() as session:
        organisation, raw_key = bootstrap_admin(session, name=args.name)
    print(f"admin organisation {organisation.id} ({organisation.name}); API key:")
    print(raw_key)


def _create_user(args: argparse.Namespace) -> None:
    import uuid

    from app.db import session_factory
    from app.errors import Problem
    from app.migrations import upgrade
    from app.people.service import create_user, generate_password

    upgrade()
    try:
        organisation_id = uuid.UUID(args.organisation)
    except ValueError:
        print("tnld: --organisation must be an organisation's id (a UUID)", file=sys.stderr)
        raise SystemExit(2) from None
    password = generate_password()
    with session_factory()() as session:
        try:
            user = create_user(
                session,
                actor=None,
                organisation_id=organisation_id,
                email=args.email,
                full_name=args.name,
                password=password,
            )
        except Problem as problem:
            print(f"tnld: {problem.detail}", file=sys.stderr)
            raise SystemExit(1) from None
    print(f"person {user.id} ({user.email}) of organisation {organisation_id}; password:")
    print(password)


def _demo(args: argparse.Namespace) -> None:
    from app.demo import seed_demo
    from app.migrations import upgrade

    upgrade()
    seed_demo(base_url=f"http://{args.host}:{args.port}")


def _backup(args: argparse.Namespace) -> None:
    from pathlib import Path

    from app.config import get_settings
    from app.ops.backup import BackupError, backup

    try:
        backup(url=get_settings().database_url, to=Path(args.to))
    except BackupError as exc:
        print(f"tnld backup: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"backup written to {args.to}")


def _restore(args: argparse.Namespace) -> None:
    from pathlib import Path

    from app.config import get_settings
    from app.ops.backup import BackupError, restore

    try:
        restore(url=get_settings().database_url, source=Path(args.source))
    except BackupError as exc:
        print(f"tnld restore: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
    print(f"restored {args.source}")


def _verify_audit(_args: argparse.Namespace) -> None:
    """Exit 0 when the audit chain is intact; 1 naming the first bad event otherwise."""
    from app.audit.chain import verify
    from app.db import get_engine

    with get_engine().connect() as connection:
        verdict = verify(connection)
    if not verdict.intact:
        print(
            f"tnld verify-audit: audit trail BROKEN at event {verdict.bad_event}: "
            f"event {verdict.bad_event} {verdict.reason} "
            f"({verdict.events} events before it are intact)",
            file=sys.stderr,
        )
        raise SystemExit(1)
    print(
        f"audit trail intact: {verdict.events} events, last event {verdict.last_id}, "
        f"hash {verdict.last_hash}"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tnld", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="apply migrations and serve the API")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument(
        "--workers",
        type=int,
        default=1,
        help="server processes (one delivery worker process serves them all, unless disabled)",
    )
    serve.set_defaults(handler=_serve)

    worker = commands.add_parser("worker", help="run the notification delivery worker")
    worker.set_defaults(handler=_worker)

    migrate = commands.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=_migrate)

    bootstrap = commands.add_parser(
        "bootstrap-admin", help="create an admin organisation and print its API key"
    )
    bootstrap.add_argument("--name", required=True)
    bootstrap.set_defaults(handler=_bootstrap_admin)

    backup = commands.add_parser(
        "backup", help="write a consistent copy of the database (while the service runs)"
    )
    backup.add_argument("--to", required=True, metavar="FILE")
    backup.set_defaults(handler=_backup)

    restore = commands.add_parser("restore", help="load a backup into an empty database")
    restore.add_argument("--from", dest="source", required=True, metavar="FILE")
    restore.set_defaults(handler=_restore)

    verify_audit = commands.add_parser(
        "verify-audit",
        help="recompute the audit trail's hash chain; exit 1 naming the first bad event",
    )
    verify_audit.set_defaults(handler=_verify_audit)

    create_user = commands.add_parser(
        "create-user",
        help="create a person of an organisation (web login) and print a generated password",
    )
    create_user.add_argument("--organisation", required=True, help="the organisation's id")
    create_user.add_argument("--email", required=True)
    create_user.add_argument("--name", required=True)
    create_user.set_defaults(handler=_create_user)

    demo = commands.add_parser(
        "demo", help="on an empty database, create demo organisations and print their keys"
    )
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8000)
    demo.set_defaults(handler=_demo)
    return parser


def main(argv: list[str] | None = None) -> None:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)
    try:
        from app.config import get_settings

        settings = get_settings()
    except ValidationError as exc:
        from app.config import describe

        print(f"tnld: invalid settings:\n{describe(exc)}", file=sys.stderr)
        raise SystemExit(2) from None
    from app.ops.logs import configure

    configure(settings.effective_log_format)
    args.handler(args)
