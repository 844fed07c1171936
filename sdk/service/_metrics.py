"""The service's Prometheus metrics (``GET /metrics``), on a registry of its own."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["ServiceMetrics"]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 3600)


class ServiceMetrics:
    """Counters, gauges and histograms of one service process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.accepted = Counter(
            "destkit_accepted", "Messages accepted (committed)", ["source"], registry=r
        )
        self.rejected = Counter(
            "destkit_rejected", "Requests rejected, by reason", ["reason"], registry=r
        )
        self.delivered = Counter(
            "destkit_delivered", "Deliveries the destination accepted", ["destination"], registry=r
        )
        self.retried = Counter(
            "destkit_retried", "Deliveries scheduled for a retry", ["destination"], registry=r
        )
        self.dead = Counter(
            "destkit_dead_lettered", "Deliveries dead-lettered", ["destination"], registry=r
        )
        self.filtered = Counter(
            "destkit_filtered",
            "Messages filtered at a destination, by reason",
            ["destination", "reason"],
            registry=r,
        )
        self.depth = Gauge("destkit_queue_depth", "Deliveries queued or retrying", registry=r)
        self.latency = Histogram(
            "destkit_delivery_latency_seconds",
            "Seconds from acceptance to the destination's answer",
            ["destination"],
            buckets=_LATENCY_BUCKETS,
            registry=r,
        )

    def settled(
        self,
        destination: str,
        delivered: int,
        retried: int,
        dead: int,
        filtered: Mapping[str, int],
        latencies: Sequence[float],
    ) -> None:
        """Count one settled batch of a destination's jobs: delivered (with each one's
        seconds from acceptance), retried, dead-lettered, filtered by reason."""
        if delivered:
            self.delivered.labels(destination).inc(delivered)
        if retried:
            self.retried.labels(destination).inc(retried)
        if dead:
            self.dead.labels(destination).inc(dead)
        for reason, count in filtered.items():
            self.filtered.labels(destination, reason).inc(count)
        if latencies:
            observe = self.latency.labels(destination).observe
            for seconds in latencies:
                observe(seconds)

    def render(self) -> tuple[bytes, str]:
        """The text exposition format and its content type."""
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
