"""``tnld serve`` runs the delivery worker as its own child process, supervised.

Sending (TLS, JSON, SMTP, recording attempts) costs CPU; in the server's process it would hold
the interpreter lock the request handlers need, and every API caller would wait while a backlog
drains after an accident or an outage. So the worker is ``tnld worker`` in a child process:
started with ``serve``, restarted when it dies (even by SIGKILL: its leases expire and nothing
is lost, queue.py), stopped with ``serve`` (SIGTERM: it finishes the sends in flight). It runs in
its own session, so a Ctrl-C in the terminal reaches only ``serve``, which stops it in order;
if ``serve`` itself is killed, the kernel tells the worker (Linux: ``PR_SET_PDEATHSIG``).
``TNLD_EMBEDDED_WORKER=false`` turns it off (run ``tnld worker`` separately, or several).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import os
import signal
import subprocess
import sys
import threading
import time

log = logging.getLogger(__name__)

#: Set in the child's environment: the pid of the ``serve`` process supervising it.
PARENT_ENV = "TNLD_WORKER_SUPERVISOR_PID"
#: A worker that dies is restarted after this pause, doubled for each quick death in a row.
RESTART_PAUSE_SECONDS = 0.5
MAX_RESTART_PAUSE_SECONDS = 30.0
#: A worker that ran this long before dying starts again with the shortest pause.
STEADY_SECONDS = 60.0
#: How long a stopping worker may take to finish its sends (each has a deadline) before SIGKILL.
STOP_SECONDS = 60.0
_PR_SET_PDEATHSIG = 1


class WorkerSupervisor:
    def __init__(self, command: list[str] | None = None) -> None:
        self.command = command or [sys.executable, "-m", "app", "worker"]
        self.process: subprocess.Popen[bytes] | None = None
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._watch, name="tnld-supervisor", daemon=True)

    def start(self) -> None:
        self._spawn()
        self._thread.start()

    def stop(self) -> None:
        """Stop the worker (SIGTERM, then SIGKILL after ``STOP_SECONDS``) and stop watching."""
        self._stopping.set()
        with self._lock:
            process = self.process
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=STOP_SECONDS)
            except subprocess.TimeoutExpired:
                log.warning("delivery worker %d did not stop in time; killing it", process.pid)
                process.kill()
                process.wait()
        self._thread.join(timeout=5)

    def _spawn(self) -> None:
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        with self._lock:
            if self._stopping.is_set():
                return
            # Our own interpreter and command, not input.
            self.process = subprocess.Popen(self.command, env=env, start_new_session=True)  # noqa: S603
        log.info("delivery worker started (pid %d)", self.process.pid)

    def _watch(self) -> None:
        pause = RESTART_PAUSE_SECONDS
        while not self._stopping.is_set():
            process = self.process
            assert process is not None
            started = time.monotonic()
            code = process.wait()
            if self._stopping.is_set():
                return
            if time.monotonic() - started > STEADY_SECONDS:
                pause = RESTART_PAUSE_SECONDS
            log.error(
                "delivery worker (pid %d) exited with %s; restarting in %.1f s",
                process.pid,
                _describe(code),
                pause,
            )
            if self._stopping.wait(pause):
                return
            pause = min(pause * 2, MAX_RESTART_PAUSE_SECONDS)
            try:
                self._spawn()
            except OSError:
                log.exception("could not start the delivery worker; trying again")
                self._stopping.wait(pause)


def _describe(code: int) -> str:
    if code < 0:
        return signal.Signals(-code).name
    return f"status {code}"


def die_with_supervisor() -> None:
    """In a supervised worker: exit (as by SIGTERM, finishing what is in flight) when the
    ``serve`` process that started it dies, however it died."""
    parent = os.environ.get(PARENT_ENV)
    if not parent:
        return
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() != int(parent):  # it died before we asked to be told
        os.kill(os.getpid(), signal.SIGTERM)
