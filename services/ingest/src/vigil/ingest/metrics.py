"""Prometheus metrics of the ingest service, registered on an injected registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class IngestMetrics:
    """Counters and histograms named ``vigil_ingest_<noun>_<unit>``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "vigil_ingest_messages_received_total", "Device messages taken from the broker",
            ["channel"], registry=registry)
        self.stored = Counter(
            "vigil_ingest_readings_stored_total", "Readings inserted or changed (committed)",
            registry=registry)
        self.unchanged = Counter(
            "vigil_ingest_readings_unchanged_total",
            "Readings that were already stored with the same value (replays, re-sent exports)",
            registry=registry)
        self.rejected = Counter(
            "vigil_ingest_rejected_total", "Messages or items sent to the dead-letter queue",
            ["reason"], registry=registry)
        self.batch_rows = Histogram(
            "vigil_ingest_batch_rows", "Readings per database transaction",
            buckets=(1, 10, 50, 100, 500, 1000, 5000, 10_000, 50_000), registry=registry)
        self.commit_seconds = Histogram(
            "vigil_ingest_commit_seconds", "Time to write and commit one batch",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
            registry=registry)
        self.pending = Gauge(
            "vigil_ingest_pending_messages", "Messages received and not yet acknowledged",
            registry=registry)
        self.lag_seconds = Gauge(
            "vigil_ingest_lag_seconds", "Age of the oldest message not yet committed",
            registry=registry)
        self.sequence_gaps = Counter(
            "vigil_ingest_sequence_gaps_total",
            "Telemetry batches missing from a device's sequence",
            registry=registry)
        self.internal_errors = Counter(
            "vigil_ingest_internal_errors_total",
            "Batches that hit an unexpected error (retried message by message)",
            registry=registry)
        self.db_errors = Counter(
            "vigil_ingest_db_errors_total", "Failed database transactions (retried)",
            registry=registry)
