"""Prometheus metrics of the notifier, on an injected registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


class NotifierMetrics:
    """Counters the tests and dashboards read."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.events = Counter("vigil_notifier_events_total", "Alert and ack messages taken",
                              ["kind"], registry=registry)
        self.attempts = Counter("vigil_notifier_attempts_total", "Delivery attempts",
                                ["receiver", "status"], registry=registry)
        self.dead_letters = Counter("vigil_notifier_dead_letters_total",
                                    "Messages that could not be decoded", registry=registry)
