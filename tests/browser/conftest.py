"""A real Chromium (Debian's, through Playwright's executable_path: `playwright install`
downloads browsers and is never used) driving tnld served by a real uvicorn.

Without Chromium the tests skip with a clear message, so `make test` passes anywhere; CI sets
TNLD_REQUIRE_BROWSER=1, which turns the skip into a failure."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path(os.environ.get("TNLD_CHROMIUM", "/usr/lib/chromium/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def _unavailable(reason: str) -> None:
    if os.environ.get("TNLD_REQUIRE_BROWSER") == "1":
        pytest.fail(f"browser tests are required (TNLD_REQUIRE_BROWSER=1) but {reason}")
    pytest.skip(f"browser tests skipped: {reason} (apt-get install chromium fonts-noto-core)")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - a dev dependency
        _unavailable("Playwright for Python is not installed")
    if not CHROMIUM.exists():
        _unavailable(f"Chromium is not installed at {CHROMIUM}")
    # Module-scoped: Playwright's sync API runs an event loop in this thread until it is
    # stopped, and later tests call asyncio.run() (the delivery worker).
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
