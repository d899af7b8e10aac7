"""Channels: one tiny interface, ``notify(message) -> error or None``; Apprise implements it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

import apprise

from vigil.notifier.config import ConfigError, Receiver
from vigil.notifier.message import Message


class Channel(Protocol):
    """Somewhere a message can be sent."""

    async def notify(self, message: Message) -> str | None:
        """Send; return None when delivered, else a short error (worth retrying)."""
        ...


class AppriseChannel:
    """A receiver's Apprise URLs; delivered only when every URL accepted the message."""

    def __init__(self, receiver: Receiver) -> None:
        self._apprise = apprise.Apprise()
        for index, url in enumerate(receiver.urls):
            # The URL itself is never echoed: it often carries a password or token.
            if not self._apprise.add(url):
                raise ConfigError(f"receivers.{receiver.name}.urls[{index}]: "
                                  "not a valid Apprise URL")
        for plugin in self._apprise:
            # Our RateLimit is the one limit; Apprise's own per-plugin throttle (5.5 s for
            # e-mail) would hold a second page to the same carer back for no reason.
            plugin.request_rate_per_sec = 0

    async def notify(self, message: Message) -> str | None:
        """Send through Apprise."""
        result = await self._apprise.async_notify(
            body=message.body, title=message.title, notify_type=message.notify_type,
            body_format=apprise.NotifyFormat.TEXT)
        if result:
            return None
        return f"apprise: {result.status.name.lower()}"


def build(receivers: Mapping[str, Receiver]) -> dict[str, Channel]:
    """One Apprise channel per receiver; raises ``ConfigError`` on an unusable URL."""
    return {name: AppriseChannel(receiver) for name, receiver in receivers.items()}
