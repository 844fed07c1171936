"""Messages the app posts to itself from workers (delivery, sandbox)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.message import Message

if TYPE_CHECKING:
    from sdk import Lifecycle

__all__ = ["DeliveryFinished", "LifecycleUpdated", "SandboxStarted"]


class LifecycleUpdated(Message):
    """The delivery runtime changed a lifecycle (posted from ``on_update``)."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        super().__init__()
        self.lifecycle = lifecycle


class DeliveryFinished(Message):
    """A send (``kind="send"``) or a credentials check (``"auth"``) is over."""

    def __init__(self, lifecycle: Lifecycle, kind: str) -> None:
        super().__init__()
        self.lifecycle = lifecycle
        self.kind = kind


class SandboxStarted(Message):
    """The in-process sandbox answers at ``url`` (or failed to start: ``error``)."""

    def __init__(self, url: str | None, error: str | None = None) -> None:
        super().__init__()
        self.url = url
        self.error = error
