from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pytest

from app.config import get_settings

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def configure() -> Iterator[Callable[..., None]]:
    """Set TNLD_* settings for this test; restored (and the settings cache cleared) after."""
    saved = dict(os.environ)

    def apply(**values: str) -> None:
        for name, value in values.items():
            os.environ[f"TNLD_{name.upper()}"] = value
        get_settings.cache_clear()

    yield apply
    os.environ.clear()
    os.environ.update(saved)
    get_settings.cache_clear()


@pytest.fixture
def metrics_token(configure: Callable[..., None]) -> str:
    configure(metrics_token=METRICS_TOKEN)
    return METRICS_TOKEN
