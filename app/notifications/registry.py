"""Every channel tnld sends on, by name: the worker, the claim and routing go through this, never
through an ``if`` on a channel's name (app.notifications.channels says what a channel is)."""

from __future__ import annotations

from app.notifications.channels import Sender
from app.notifications.email import EmailSender
from app.notifications.models import Channel
from app.notifications.webhook import WebhookSender

SENDERS: dict[Channel, type[Sender]] = {
    sender.channel: sender for sender in (EmailSender, WebhookSender)
}

if set(SENDERS) != set(Channel):  # a channel nothing can send would wait for ever
    raise RuntimeError("every Channel needs a Sender in app.notifications.registry")


def organisation_columns(*, sending: bool) -> list[str]:
    """The organisation columns routing (``sending=False``) or a claim (``True``) reads."""
    columns: dict[str, None] = {}
    for sender in SENDERS.values():
        columns |= dict.fromkeys(sender.address_columns if sending else sender.route_columns)
    return list(columns)
