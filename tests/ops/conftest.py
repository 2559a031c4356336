from __future__ import annotations

import pytest

from tests.helpers import Configure

METRICS_TOKEN = "metrics-token-for-tests-0123456789"


@pytest.fixture
def metrics_token(configure: Configure) -> str:
    configure(metrics_token=METRICS_TOKEN)
    return METRICS_TOKEN
