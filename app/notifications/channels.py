"""Channels: the one interface every way of reaching a recipient implements.

A channel says three things, and nothing else in the package knows them:
- whether an organisation can be reached on it (routing, when the outbox rows are written),
- the organisation's address on it as it is now (the claim, right before sending),
- how a claimed batch of its deliveries is sent (the worker gives it the jobs and records what
  comes back; it never looks at a channel's name).

The worker, the queue and routing go through :data:`app.notifications.registry.SENDERS`; adding
a channel is one subclass of :class:`Sender` and one line in the registry (README, "Adding a
notification channel").
"""

from __future__ import annotations

import abc
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any, ClassVar

from app.config import Settings
from app.notifications.jobs import Job, SendResult
from app.notifications.models import Channel

#: An organisation's row as read (the columns the channels asked for, by name).
OrganisationRow = Mapping[Any, Any]
#: One attempt's result and how long it took, in milliseconds.
Sent = tuple[SendResult, int]


class Sender(abc.ABC):
    """One channel's sending, as a worker uses it: made once per worker, closed when it stops."""

    channel: ClassVar[Channel]
    #: Organisation columns that say whether it can be reached on this channel (routing reads
    #: only these when a report is filed: the hot path).
    route_columns: ClassVar[tuple[str, ...]]
    #: Organisation columns the channel's address is made of (read by every claim).
    address_columns: ClassVar[tuple[str, ...]]

    def __init__(self, settings: Settings, *, concurrency: int) -> None:
        self.settings = settings
        self.concurrency = concurrency

    @classmethod
    def reaches(cls, organisation: OrganisationRow) -> bool:
        """Whether the organisation has an address on this channel."""
        return any(organisation[column] for column in cls.route_columns)

    @classmethod
    @abc.abstractmethod
    def address(cls, organisation: OrganisationRow, *, now: datetime) -> object | None:
        """The organisation's address on this channel as it is ``now`` (the job's ``address``),
        or None when it has none any more."""

    def batches(self, jobs: Sequence[Job]) -> list[Sequence[Job]]:
        """How a claim's deliveries on this channel are split for sending, each part sent
        concurrently with the others. By default one by one: each slot frees on its own."""
        return [[job] for job in jobs]

    @abc.abstractmethod
    async def send(self, jobs: Sequence[Job]) -> list[Sent]:
        """Send these jobs; one result per job, in order. Never raises for a recipient's
        trouble (that is a result); each send ends within the channel's deadline."""

    async def aclose(self) -> None:  # noqa: B027 (most senders hold nothing)
        """Give back what the sender holds (connections)."""
