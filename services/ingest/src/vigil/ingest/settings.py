"""Ingest settings: the common VIGIL_* keys plus VIGIL_INGEST_*."""

from __future__ import annotations

import socket

from pydantic import Field

from vigil.core.config import CommonSettings


class IngestSettings(CommonSettings):
    """Environment variables of `vigil ingest` (README, configuration table)."""

    # Replicas in one group split the device topics (MQTT 5 shared subscription).
    ingest_group: str = "ingest"
    # Mosquitto does not restore an offline session's shared subscriptions after a broker
    # restart: until the replica reconnects, messages for its group are dropped. A single
    # replica with a plain subscription has no such window (README, "Scaling").
    ingest_shared_subscription: bool = True
    # Must be stable per replica (a StatefulSet pod name): the broker keeps the persistent
    # session, and so the unacknowledged messages, under this id.
    ingest_client_id: str = Field(default_factory=lambda: f"ingest-{socket.gethostname()}")
    ingest_http_host: str = "0.0.0.0"  # noqa: S104 - probes and Prometheus scrape the pod IP
    ingest_http_port: int = Field(default=8081, ge=0, le=65535)
    # A flush ends at whichever limit comes first; smaller flushes mean lower latency.
    ingest_batch_messages: int = Field(default=1000, ge=1, le=20_000)
    ingest_batch_rows: int = Field(default=10_000, ge=1, le=200_000)
    ingest_flush_ms: int = Field(default=10, ge=0, le=5_000)
    ingest_max_payload_bytes: int = Field(default=2 * 1024 * 1024, ge=1024)
    ingest_receive_maximum: int = Field(default=10_000, ge=1, le=65_535)
    ingest_registry_ttl_s: float = Field(default=30.0, gt=0)
