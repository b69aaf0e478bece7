"""Slack: a bot token (or an incoming webhook) set by the head of product; people's Slack ids
found by their email address; direct messages sent from the outbox."""

from __future__ import annotations

from app.models import OutboundMessage


class SlackError(Exception):
    """Slack refused or could not be reached; the outbox retries the message later."""


def send(message: OutboundMessage) -> None:
    """Send one queued Slack message (its recipient's DM). Raises SlackError."""
    raise NotImplementedError("issue 15: the Slack helper writes this")
