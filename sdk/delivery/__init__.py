"""The delivery engine: runs a connector over messages (route, map, batch, send, retry) and renders
its lifecycles."""

from sdk._terminal import terminal_safe
from sdk.delivery._async import AsyncDelivery
from sdk.delivery._render import (
    render_body,
    render_lifecycle,
)
from sdk.delivery._results import DeliveryResult, Record
from sdk.delivery._stream import StreamRun
from sdk.delivery._sync import Delivery

__all__ = [
    "AsyncDelivery",
    "Delivery",
    "DeliveryResult",
    "Record",
    "StreamRun",
    "render_body",
    "render_lifecycle",
    "terminal_safe",
]
