"""The delivery worker (issue 3: being built)."""

from __future__ import annotations

from collections.abc import Callable


def run_worker() -> None:
    """``tnld worker``: run until SIGTERM/SIGINT."""
    raise NotImplementedError("the delivery worker is not built yet (issue 3)")


def start_embedded_worker() -> Callable[[], None]:
    """Start the worker in a background thread of ``tnld serve``; returns a function that stops
    it (called on shutdown)."""
    return lambda: None
