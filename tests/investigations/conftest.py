"""The real webhook receiver and recipients of the notification tests, for the end-to-end
escalation test."""

from tests.notifications.conftest import receiver, recipients  # noqa: F401
