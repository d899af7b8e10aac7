"""Cache settings: the common VIGIL_* keys plus VIGIL_CACHE_*."""

from __future__ import annotations

import socket

from pydantic import Field

from vigil.core.config import CommonSettings

DAY_S = 86_400


class CacheSettings(CommonSettings):
    """Environment variables of `vigil cache` (README, configuration table)."""

    # Replicas in one group split readings, alerts, acks and requests (MQTT 5 shared
    # subscriptions); device status is retained, so every replica subscribes to all of it.
    cache_group: str = "cache"
    # Must be stable per replica: the broker keeps the persistent session under this id.
    cache_client_id: str = Field(default_factory=lambda: f"cache-{socket.gethostname()}")
    cache_http_host: str = "0.0.0.0"  # noqa: S104 - probes and Prometheus scrape the pod IP
    cache_http_port: int = Field(default=8084, ge=0, le=65535)
    # Every key starts with this, so several caches (or tests) can share one Redis.
    cache_key_prefix: str = Field(default="vigil:cache:", min_length=1, max_length=64)
    cache_retention_days: int = Field(default=7, ge=1, le=60)
    # Raw points kept per patient and metric (the memory bound; older points come from the DB).
    cache_series_max_points: int = Field(default=10_080, ge=10, le=1_000_000)
    # A latest value older than this is flagged stale; the key expires after it too.
    cache_latest_ttl_s: int = Field(default=DAY_S, ge=60)
    cache_state_interval_s: float = Field(default=1.0, ge=0.05, le=3600)
    # The broker keeps our session this long; a cache left alone longer is rebuilt.
    cache_session_expiry_s: int = Field(default=DAY_S, ge=60)
    cache_batch_messages: int = Field(default=1000, ge=1, le=20_000)
    cache_receive_maximum: int = Field(default=10_000, ge=1, le=65_535)
    cache_max_range_points: int = Field(default=50_000, ge=1, le=1_000_000)
    cache_db_pool_size: int = Field(default=4, ge=1, le=64)

    @property
    def retention_ms(self) -> int:
        """The cached window in milliseconds."""
        return self.cache_retention_days * DAY_S * 1000
