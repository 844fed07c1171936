"""Routing by the integrations object: which destinations receive a message, and why not."""

from sdk.routing._integrations import (
    RoutingDecision,
    route,
)

__all__ = [
    "RoutingDecision",
    "route",
]
