"""The delivery worker (issue 3: being built)."""

from __future__ import annotations


def run_worker() -> None:
    raise NotImplementedError("the delivery worker is not built yet (issue 3)")
