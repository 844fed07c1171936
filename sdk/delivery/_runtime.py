"""The delivery runtime, by its historical module name: :class:`AsyncDelivery` and its
synchronous twin :class:`Delivery` (each concept now has its own module in this package)."""

from sdk.delivery._async import AsyncDelivery
from sdk.delivery._sync import Delivery

__all__ = ["AsyncDelivery", "Delivery"]
