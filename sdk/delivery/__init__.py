"""The delivery engine: runs a connector over messages (route, map, batch, send, retry) and renders
its lifecycles."""

from sdk._terminal import terminal_safe
from sdk.delivery._render import (
    render_body,
    render_lifecycle,
)
from sdk.delivery._runtime import (
    AsyncDelivery,
    Delivery,
)

__all__ = [
    "AsyncDelivery",
    "Delivery",
    "render_body",
    "render_lifecycle",
    "terminal_safe",
]
