"""``destkit serve``: the durable delivery service.

Segment clients send to its ingest (the HTTP Tracking API); accepted messages are committed to
a queue (:mod:`sdk.queue`) and fanned out per destination by the integrations object; workers
deliver them with the SDK's delivery engine, retrying within ``retry_window`` and
dead-lettering what cannot be delivered.
"""

from sdk.service._app import Service
from sdk.service._collector import settle_collector
from sdk.service._config import (
    MAX_CONFIG_BYTES,
    ConfigError,
    DeliveryOptions,
    DestinationConfig,
    ServiceConfig,
    SourceConfig,
    load_config,
    parse_config,
    parse_duration,
)
from sdk.service._deliver import Verdict, deliver_batch
from sdk.service._log import ServiceLog
from sdk.service._metrics import ServiceMetrics
from sdk.service._worker import SERVICE_RETRY, DestinationWorker

__all__ = [
    "MAX_CONFIG_BYTES",
    "SERVICE_RETRY",
    "ConfigError",
    "DeliveryOptions",
    "DestinationConfig",
    "DestinationWorker",
    "Service",
    "ServiceConfig",
    "ServiceLog",
    "ServiceMetrics",
    "SourceConfig",
    "Verdict",
    "deliver_batch",
    "load_config",
    "parse_config",
    "parse_duration",
    "settle_collector",
]
