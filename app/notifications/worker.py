"""The delivery worker: ``tnld worker``, or the child process ``tnld serve`` starts.

One asyncio loop claims due deliveries in batches (with a lease, see queue.py) whenever sending
slots are free, and sends them concurrently through each channel's sender
(app.notifications.registry: webhooks over one pooled HTTP/1.1 client, each within a total deadline;
e-mails over a few SMTP sessions, several messages each). The loop knows no channel by name. Results
are recorded together, one transaction for all the sends that finished meanwhile. While a send
is in flight its lease is renewed, so no other claim can take it and send it a second time.

A recipient takes at most ``RECIPIENT_CONCURRENCY`` sending slots per channel: a receiver that
is slow or hangs delays only its own deliveries, never the other recipients' (Security and
privacy). The loop sleeps until a slot frees, the poll interval passes
(``TNLD_WORKER_POLL_SECONDS``) or, on PostgreSQL, a committed delivery NOTIFYs ``tnld_deliveries``
(the police and the inspectorate should hear of a death within seconds: Law 84/2015 Art. 34,
"immediately"). Stopping (SIGTERM/SIGINT) finishes the sends in flight, records them, gives
back any lease still held, and returns.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import secrets
import signal
import socket
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable, Coroutine, Mapping, Sequence
from datetime import timedelta
from typing import Any

import psycopg
from sqlalchemy.exc import SQLAlchemyError

from app import clock
from app.config import Settings, get_settings
from app.db import get_engine, session_factory
from app.notifications import escalation, queue
from app.notifications.channels import Sender
from app.notifications.jobs import Job, Outcome, SendResult
from app.notifications.models import Channel, DeliveryStatus
from app.notifications.outbox import WAKE_CHANNEL
from app.notifications.registry import SENDERS
from app.ops import digest, housekeeping
from app.ops.logs import scrub
from app.stats import kept

log = logging.getLogger(__name__)

#: Deliveries sent at the same time by one worker.
SEND_CONCURRENCY = 64
#: Of those, at most this many to one recipient on one channel. Also what sizes a claim while a
#: backlog drains (a claim takes what the recipients' shares leave free): 16 rather than 8
#: drained bench/notify.py's 10,000 deliveries to 4 recipients in 42 s instead of 72 s, at
#: 2.6 instead of 3.7 ms of the worker's CPU per delivery (bench/README.md, Notifications).
RECIPIENT_CONCURRENCY = 16
#: Claim again when this many slots have freed since the last claim.
CLAIM_WHEN_FREED = 16
#: How often the PostgreSQL listener checks whether it should stop.
LISTEN_TICK_SECONDS = 0.5
#: Pause after a database error before trying again.
ERROR_BACKOFF_SECONDS = 2.0
#: How often recording a batch is tried before its leases are left to expire.
RECORD_TRIES = 5
#: How often the worker records that it is alive (``/readyz``, ``/metrics``).
HEARTBEAT_SECONDS = 5.0
#: How often it purges idempotency records past TNLD_IDEMPOTENCY_TTL.
PURGE_EVERY_SECONDS = 600.0


def worker_name() -> str:
    return f"{socket.gethostname()[:60]}:{os.getpid()}:{secrets.token_hex(3)}"


class Worker:
    def __init__(
        self,
        *,
        settings: Settings | None = None,
        concurrency: int = SEND_CONCURRENCY,
        per_recipient: int = RECIPIENT_CONCURRENCY,
    ) -> None:
        self.settings = settings or get_settings()
        self.name = worker_name()
        self.started_at = clock.now()
        self.concurrency = concurrency
        self.per_recipient = per_recipient
        self.delays = self.settings.retry_delays
        self.lease = timedelta(seconds=self.settings.lease_seconds)
        self._claims = itertools.count(1)
        #: Jobs being sent, by delivery id (each holds a sending slot).
        self._in_flight: dict[uuid.UUID, Job] = {}
        #: Jobs sent and not yet recorded: their slots are free, their leases still renewed.
        self._unrecorded: dict[uuid.UUID, Job] = {}
        self._finished: list[queue.Finished] = []
        #: Sending slots freed since the last claim.
        self._freed = 0
        self._tasks: set[asyncio.Task[None]] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._recorded = asyncio.Event()
        self._stop_requested = threading.Event()

    # -- running ---------------------------------------------------------------------------

    def run(self) -> None:
        """Deliver until :meth:`stop` is called."""
        asyncio.run(self.run_async())

    async def run_async(
        self, *, on_start: Callable[[asyncio.AbstractEventLoop], None] | None = None
    ) -> None:
        self._bind_loop()
        if on_start is not None:
            on_start(asyncio.get_running_loop())
        log.info("delivery worker %s started", self.name)
        listener = self._start_listener()
        senders = self._open_senders()
        recorder = asyncio.create_task(self._record_loop())
        renewer = asyncio.create_task(self._renew_loop())
        keeper = asyncio.create_task(self._housekeeping_loop())
        try:
            while not self._stopping.is_set():
                self._wake.clear()
                self._freed = 0
                free = self.concurrency - len(self._in_flight)
                claimed: list[Job] = []
                if free > 0:
                    try:
                        claimed = await asyncio.to_thread(self._claim, free)
                    except SQLAlchemyError:
                        log.exception("could not claim deliveries; trying again shortly")
                        await self._pause(ERROR_BACKOFF_SECONDS)
                        continue
                    self._dispatch(claimed, senders)
                if free > 0 and len(claimed) == free:
                    continue  # more may be due: claim again as soon as a slot frees
                await self._pause(self.settings.worker_poll_seconds)
        finally:
            # Sends in flight finish (each within its deadline) and are recorded.
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            while self._finished or self._in_flight or self._unrecorded:
                self._recorded.clear()
                await self._recorded.wait()
            recorder.cancel()
            renewer.cancel()
            keeper.cancel()
            await asyncio.gather(recorder, renewer, keeper, return_exceptions=True)
            await asyncio.to_thread(self._release)
            await asyncio.to_thread(self._forget)
            await self._close_senders(senders)
            if listener is not None:
                await asyncio.to_thread(listener.join, 5)
            log.info("delivery worker %s stopped", self.name)

    def stop(self) -> None:
        """Stop (from any thread or a signal handler): no new claims, finish what is in flight."""
        self._stop_requested.set()
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._stopping.set)

    def process_due(self) -> int:
        """Claim what is due now, send it, record it; return how many were sent. One pass, no
        loop: for tests and scripts that want to drive delivery themselves."""
        return asyncio.run(self._process_once())

    def close(self) -> None:
        """Nothing is kept between passes of :meth:`process_due` (kept for callers)."""

    # -- one batch -------------------------------------------------------------------------

    async def _process_once(self) -> int:
        self._bind_loop()
        jobs = await asyncio.to_thread(self._claim, self.concurrency)
        senders = self._open_senders()
        try:
            self._dispatch(jobs, senders)
            if self._tasks:
                await asyncio.gather(*self._tasks)
        finally:
            await self._close_senders(senders)
        finished, self._finished = self._finished, []
        await asyncio.to_thread(self._record, finished)
        self._in_flight.clear()
        self._unrecorded.clear()
        return len(jobs)

    def _dispatch(self, jobs: Sequence[Job], senders: Mapping[Channel, Sender]) -> None:
        """Start sending a claim: each channel's jobs, split as that channel sends them."""
        by_channel: dict[Channel, list[Job]] = defaultdict(list)
        for job in jobs:
            self._in_flight[job.delivery_id] = job
            by_channel[job.channel].append(job)
        for channel, channel_jobs in by_channel.items():
            sender = senders[channel]
            for part in sender.batches(channel_jobs):
                self._spawn(self._send(sender, part))

    def _spawn(self, coroutine: Coroutine[Any, Any, None]) -> None:
        task = asyncio.ensure_future(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, sender: Sender, jobs: Sequence[Job]) -> None:
        try:
            results = await sender.send(jobs)
        except Exception as exc:  # a bug must not kill the worker or lose the delivery
            log.exception("%s: unexpected error while sending", sender.channel)
            error = SendResult(Outcome.retry, error=f"internal_error: {type(exc).__name__}")
            results = [(error, 0)] * len(jobs)
        self._done([(job, result, ms) for job, (result, ms) in zip(jobs, results, strict=True)])

    def _done(self, sent: list[tuple[Job, SendResult, int]]) -> None:
        now = clock.now()
        for job, result, ms in sent:
            self._finished.append(queue.Finished(job, result, ms, now))
            # The slot is free for the next claim; the lease is held until the record.
            self._unrecorded[job.delivery_id] = self._in_flight.pop(job.delivery_id, job)
        self._wake_recorder()
        # Claim again once a few slots are free (or none is busy): one claim per send would
        # cost a transaction per delivery. New deliveries wake the loop themselves (NOTIFY).
        self._freed += len(sent)
        if self._freed >= CLAIM_WHEN_FREED or not self._in_flight:
            self._wake.set()

    def _open_senders(self) -> dict[Channel, Sender]:
        return {
            channel: sender(self.settings, concurrency=self.concurrency)
            for channel, sender in SENDERS.items()
        }

    async def _close_senders(self, senders: Mapping[Channel, Sender]) -> None:
        for sender in senders.values():
            await sender.aclose()

    # -- recording -------------------------------------------------------------------------

    def _wake_recorder(self) -> None:
        self._recorded.set()

    async def _record_loop(self) -> None:
        while True:
            if not self._finished:
                self._recorded.clear()
                await self._recorded.wait()
                continue
            finished, self._finished = self._finished, []
            try:
                await asyncio.to_thread(self._record, finished)
            except Exception:  # never leave the loop: a stopping worker waits for it
                log.exception("could not record %d attempts", len(finished))
            for item in finished:
                self._unrecorded.pop(item.job.delivery_id, None)
            self._recorded.set()  # for a stopping loop waiting for the last records

    def _record(self, finished: list[queue.Finished]) -> None:
        if not finished:
            return
        for attempt in range(1, RECORD_TRIES + 1):
            try:
                with get_engine().connect() as connection:
                    statuses = queue.record_batch(
                        connection, finished, worker=self.name, delays=self.delays
                    )
                break
            except SQLAlchemyError:
                log.warning("could not record %d attempts", len(finished))
                if attempt == RECORD_TRIES or self._stop_requested.is_set():
                    # The leases expire and the deliveries are sent again: at least once.
                    log.exception("%d attempts not recorded", len(finished))
                    return
                time.sleep(ERROR_BACKOFF_SECONDS * attempt)
        counts = Counter(str(status or "stale") for status in statuses)
        log.info("recorded %d attempts (%s)", len(finished), dict(counts))
        for item, status in zip(finished, statuses, strict=True):
            # Ids and outcomes only: never the payload; an error may quote an address.
            error = scrub(item.result.error) if item.result.error else None
            log.log(
                logging.INFO if status is DeliveryStatus.delivered else logging.WARNING,
                "delivery %s (%s): %s%s",
                item.job.delivery_id,
                item.job.channel,
                status or "claim gone stale",
                f" ({error})" if error else "",
                extra={
                    "delivery_id": str(item.job.delivery_id),
                    "channel": str(item.job.channel),
                    "event_type": item.job.event_type,
                    "outcome": str(item.result.outcome),
                    "status": str(status) if status else "stale",
                    "duration_ms": item.duration_ms,
                },
            )

    # -- leases ----------------------------------------------------------------------------

    def _claim(self, limit: int) -> list[Job]:
        busy = Counter((job.recipient_id, job.channel) for job in self._in_flight.values())
        with get_engine().connect() as connection:
            return queue.claim_batch(
                connection,
                token=f"{self.name}/{next(self._claims)}",
                limit=limit,
                now=clock.now(),
                lease=self.lease,
                per_recipient=self.per_recipient,
                busy=dict(busy),
            )

    async def _renew_loop(self) -> None:
        """Renew the leases of what is being sent, well before they could run out."""
        every = self.lease.total_seconds() / 3
        while True:
            await asyncio.sleep(every)
            held = [*self._in_flight.values(), *self._unrecorded.values()]
            tokens = {job.lease_owner for job in held}
            if not tokens:
                continue
            try:
                await asyncio.to_thread(self._renew, tokens)
            except SQLAlchemyError:
                log.warning("could not renew %d leases; trying again", len(tokens))

    def _renew(self, tokens: set[str]) -> None:
        with get_engine().connect() as connection:
            queue.renew_leases(connection, tokens=tokens, now=clock.now(), lease=self.lease)

    def _release(self) -> None:
        tokens = {f"{self.name}/{n}" for n in range(1, next(self._claims))}
        try:
            with get_engine().connect() as connection:
                released = queue.release_leases(connection, tokens=tokens)
            if released:
                log.info("released %d claimed deliveries", released)
        except SQLAlchemyError:
            log.exception("could not release leases; they expire by themselves")

    # -- housekeeping ----------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Record that this worker is alive now."""
        with get_engine().connect() as connection:
            housekeeping.beat(
                connection, worker=self.name, now=clock.now(), started_at=self.started_at
            )

    def purge(self) -> int:
        """Purge the idempotency records past their keeping time; return how many."""
        with get_engine().connect() as connection:
            purged = housekeeping.purge_idempotency_records(
                connection, now=clock.now(), keep=self.settings.idempotency_keep
            )
        if purged:
            log.info("purged %d idempotency records", purged, extra={"purged": purged})
        return purged

    def escalate(self) -> int:
        """Send again the fatal reports' notices the labour authority has not acknowledged."""
        with session_factory()() as session:
            return escalation.escalate_due(
                session, now=clock.now(), after=self.settings.ack_escalation_after
            )

    def fold_figures(self) -> bool:
        """Add the statistics' changes appended since the last fold into their yearly rows
        (app.stats.kept), so that a read of the figures sums a few rows per unit; a read also
        folds when it finds many, but between reads the changes would only pile up."""
        return kept.fold_pending()

    def send_digest(self) -> bool:
        """Write today's deadline digest to the outbox, if due and not written yet."""
        with session_factory()() as session:
            return digest.send_digest(
                session,
                now=clock.now(),
                at=digest.parse_time_of_day(self.settings.deadline_digest_at),
            )

    async def _housekeeping_loop(self) -> None:
        last_purge = -PURGE_EVERY_SECONDS
        while True:
            try:
                await asyncio.to_thread(self.heartbeat)
                await asyncio.to_thread(self.escalate)
                await asyncio.to_thread(self.send_digest)
                await asyncio.to_thread(self.fold_figures)
                if time.monotonic() - last_purge >= PURGE_EVERY_SECONDS:
                    last_purge = time.monotonic()
                    await asyncio.to_thread(self.purge)
            except Exception:  # never end the loop: the heartbeat must go on
                log.exception("housekeeping failed; trying again shortly")
            await asyncio.sleep(HEARTBEAT_SECONDS)

    def _forget(self) -> None:
        try:
            with get_engine().connect() as connection:
                housekeeping.forget(connection, worker=self.name)
        except SQLAlchemyError:
            log.warning("could not remove this worker's heartbeat")

    # -- waking ----------------------------------------------------------------------------

    def _bind_loop(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._recorded = asyncio.Event()
        if self._stop_requested.is_set():
            self._stopping.set()

    async def _pause(self, seconds: float) -> None:
        waiters = [
            asyncio.ensure_future(self._wake.wait()),
            asyncio.ensure_future(self._stopping.wait()),
        ]
        try:
            await asyncio.wait(waiters, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()

    def _wake_from_thread(self) -> None:
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._wake.set)

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
        while not self._stop_requested.is_set():
            try:
                with psycopg.connect(conninfo, autocommit=True) as connection:
                    connection.execute(f"LISTEN {WAKE_CHANNEL}")
                    self._wake_from_thread()  # catch up with anything committed before
                    while not self._stop_requested.is_set():
                        for _ in connection.notifies(timeout=LISTEN_TICK_SECONDS, stop_after=1):
                            self._wake_from_thread()
            except psycopg.Error:
                log.warning("LISTEN %s failed; polling until it is back", WAKE_CHANNEL)
                self._stop_requested.wait(ERROR_BACKOFF_SECONDS)


def run_worker() -> None:
    """``tnld worker``: run until SIGTERM/SIGINT, then stop cleanly."""
    worker = Worker()
    # Below the API's priority (TNLD_WORKER_NICE): the people at its screens and the
    # integrators' requests come first for a CPU, deliveries take what is left, which is most
    # of it. While a backlog of 10,000 drained, the API's read p95 rose 1.9-2.5x at the same
    # priority and 1.6-1.8x at 19, and the drain took as long (bench/README.md, Notifications).
    os.nice(worker.settings.worker_nice)

    def install(loop: asyncio.AbstractEventLoop) -> None:
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, _stop, signum)

    def _stop(signum: int) -> None:
        log.info("received %s: finishing the deliveries in flight", signal.Signals(signum).name)
        worker.stop()

    asyncio.run(worker.run_async(on_start=install))


def start_embedded_worker() -> Callable[[], None]:
    """Start the worker in a background thread of this process; returns a function that stops
    it. (``tnld serve`` runs it in a child process instead: app.notifications.supervisor.)"""
    worker = Worker()
    thread = threading.Thread(target=worker.run, name="tnld-worker", daemon=True)
    thread.start()

    def stop() -> None:
        worker.stop()
        thread.join(timeout=60)

    return stop
