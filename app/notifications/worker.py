"""The delivery worker: ``tnld worker``, or a thread inside ``tnld serve``.

One loop claims due deliveries (with a lease, see queue.py) whenever a sending slot is free and
hands each to a pool of sender threads; each sender records its attempt in its own short
transaction. The loop sleeps until a slot frees, the poll interval passes
(``TNLD_WORKER_POLL_SECONDS``) or, on PostgreSQL, a committed report NOTIFYs ``tnld_deliveries``
(the police and the inspectorate should hear of a death within seconds: Law 84/2015 Art. 34,
"immediately"). Stopping (SIGTERM/SIGINT) finishes the sends in flight, records them, gives back
any lease still held, and returns.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from datetime import timedelta
from types import FrameType

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.config import Settings, get_settings
from app.db import get_engine, session_factory
from app.notifications import email, queue, webhook
from app.notifications.jobs import Job, Outcome, SendResult
from app.notifications.models import Channel
from app.notifications.outbox import WAKE_CHANNEL

log = logging.getLogger(__name__)

#: Deliveries sent at the same time by one worker.
SEND_CONCURRENCY = 16
#: How often the PostgreSQL listener checks whether it should stop.
LISTEN_TICK_SECONDS = 0.5
#: Pause after a database error before trying again.
ERROR_BACKOFF_SECONDS = 2.0
#: How often recording an attempt is tried before the lease is left to expire.
RECORD_TRIES = 5


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    def __init__(
        self, *, settings: Settings | None = None, concurrency: int = SEND_CONCURRENCY
    ) -> None:
        self.settings = settings or get_settings()
        self.name = worker_name()
        self.concurrency = concurrency
        self.delays = self.settings.retry_delays
        self.lease = timedelta(seconds=self.settings.lease_seconds)
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._in_flight = 0
        self._http = webhook.new_client(
            timeout=self.settings.webhook_timeout_seconds, connections=concurrency
        )

    # -- running ---------------------------------------------------------------------------

    def run(self) -> None:
        """Deliver until :meth:`stop` is called."""
        log.info("delivery worker %s started", self.name)
        listener = self._start_listener()
        pool = ThreadPoolExecutor(self.concurrency, thread_name_prefix="tnld-send")
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                free = self.concurrency - self._busy()
                claimed: list[Job] = []
                if free > 0:
                    try:
                        claimed = self._claim(free)
                    except SQLAlchemyError:
                        log.exception("could not claim deliveries; trying again shortly")
                        self._stopping.wait(ERROR_BACKOFF_SECONDS)
                        continue
                    for job in claimed:
                        self._start(pool, job)
                if free > 0 and len(claimed) == free:
                    continue  # more may be due: claim again as soon as a slot frees
                self._wake.wait(self.settings.worker_poll_seconds)
        finally:
            # Sends in flight finish and are recorded (each is bounded by its timeout).
            pool.shutdown(wait=True)
            self._release()
            if listener is not None:
                listener.join(timeout=5)
            self._http.close()
            log.info("delivery worker %s stopped", self.name)

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()

    def process_due(self) -> int:
        """Claim what is due now, send it, record it; return how many were sent. One pass, no
        loop: for tests and scripts that want to drive delivery themselves."""
        jobs = self._claim(self.concurrency)
        if jobs:
            with ThreadPoolExecutor(len(jobs), thread_name_prefix="tnld-send") as pool:
                futures: list[Future[None]] = [pool.submit(self.deliver, job) for job in jobs]
                wait(futures)
                for future in futures:
                    future.result()
        return len(jobs)

    def close(self) -> None:
        self._http.close()

    # -- one delivery ----------------------------------------------------------------------

    def deliver(self, job: Job) -> None:
        started = time.monotonic()
        try:
            result = self.send(job)
        except Exception as exc:  # a bug must not kill the worker or lose the delivery
            log.exception("delivery %s: unexpected error while sending", job.delivery_id)
            result = SendResult(Outcome.retry, error=f"internal error: {type(exc).__name__}")
        duration_ms = int((time.monotonic() - started) * 1000)
        status = None
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                with session_factory()() as session:
                    status = queue.record_result(
                        session,
                        job=job,
                        owner=self.name,
                        result=result,
                        now=clock.now(),
                        delays=self.delays,
                        duration_ms=duration_ms,
                    )
                break
            except SQLAlchemyError:
                log.warning("delivery %s: could not record the attempt", job.delivery_id)
                if attempt == RECORD_TRIES:
                    # The lease expires and the delivery is sent again: at least once.
                    log.exception("delivery %s: attempt not recorded", job.delivery_id)
                    return
                time.sleep(ERROR_BACKOFF_SECONDS * attempt)
        level = logging.INFO if result.outcome is Outcome.delivered else logging.WARNING
        log.log(
            level,
            "delivery %s (%s to %s): %s%s",
            job.delivery_id,
            job.channel,
            job.recipient_name,
            status or "lease lost",
            f" ({result.error})" if result.error else "",
        )

    def send(self, job: Job) -> SendResult:
        if job.channel is Channel.email:
            return email.send_email(job, settings=self.settings)
        return webhook.send_webhook(job, client=self._http)

    # -- internals -------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[Job]:
        with session_factory()() as session:
            return queue.claim_due(
                session, owner=self.name, limit=limit, now=clock.now(), lease=self.lease
            )

    def _busy(self) -> int:
        with self._lock:
            return self._in_flight

    def _start(self, pool: ThreadPoolExecutor, job: Job) -> None:
        with self._lock:
            self._in_flight += 1
        pool.submit(self.deliver, job).add_done_callback(self._finished)

    def _finished(self, _future: Future[None]) -> None:
        with self._lock:
            self._in_flight -= 1
        self._wake.set()

    def _release(self) -> None:
        try:
            with session_factory()() as session:
                released = queue.release_leases(session, owner=self.name)
            if released:
                log.info("released %d claimed deliveries", released)
        except SQLAlchemyError:
            log.exception("could not release leases; they expire by themselves")

    def _start_listener(self) -> threading.Thread | None:
        engine = get_engine()
        if engine.dialect.name != "postgresql":
            return None
        conninfo = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)
        thread = threading.Thread(
            target=self._listen, args=(conninfo,), name="tnld-listen", daemon=True
        )
        thread.start()
        return thread

    def _listen(self, conninfo: str) -> None:
        """Wake the loop when a transaction that enqueued deliveries commits (PostgreSQL)."""
        while not self._stopping.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {WAKE_CHANNEL}")
                    self._wake.set()  # catch up with anything committed before we listened
                    while not self._stopping.is_set():
                        for _ in connection.notifies(timeout=LISTEN_TICK_SECONDS, stop_after=1):
                            self._wake.set()
            except psycopg.Error:
                log.warning("LISTEN %s failed; polling until it is back", WAKE_CHANNEL)
                self._stopping.wait(ERROR_BACKOFF_SECONDS)


def run_worker() -> None:
    """``tnld worker``: run until SIGTERM/SIGINT, then stop cleanly."""
    worker = Worker()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("received %s: finishing the deliveries in flight", signal.Signals(signum).name)
        worker.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    worker.run()


def start_embedded_worker() -> Callable[[], None]:
    """Start the worker in a background thread of ``tnld serve``; returns a function that stops
    it (called on shutdown)."""
    worker = Worker()
    thread = threading.Thread(target=worker.run, name="tnld-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop()
        thread.join(timeout=60)

    return stop
