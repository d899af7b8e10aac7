"""Prometheus metrics of the cache service, registered on an injected registry."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

_LATENCY = (0.0002, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1)


class CacheMetrics:
    """Counters and histograms named ``vigil_cache_<noun>_<unit>``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.requests = Counter(
            "vigil_cache_requests_total", "Requests answered, by operation and source",
            ["op", "source"], registry=registry)
        self.hits = Counter(
            "vigil_cache_hits_total", "Requests answered from Redis", ["op"], registry=registry)
        self.misses = Counter(
            "vigil_cache_misses_total", "Requests Redis could not answer", ["op"],
            registry=registry)
        self.fallbacks = Counter(
            "vigil_cache_db_fallbacks_total",
            "Requests answered from the database, by reason (miss, outside, rebuilding)",
            ["op", "reason"], registry=registry)
        self.bad_requests = Counter(
            "vigil_cache_bad_requests_total", "Requests refused with an error response",
            registry=registry)
        self.request_seconds = Histogram(
            "vigil_cache_request_seconds", "Request received -> response queued",
            ["op"], buckets=_LATENCY, registry=registry)
        self.messages = Counter(
            "vigil_cache_messages_total", "Messages consumed, by kind", ["kind"],
            registry=registry)
        self.readings = Counter(
            "vigil_cache_readings_applied_total", "Readings written to Redis", registry=registry)
        self.invalid = Counter(
            "vigil_cache_invalid_messages_total", "Undecodable messages (dead-lettered)",
            ["kind"], registry=registry)
        self.redis_errors = Counter(
            "vigil_cache_redis_errors_total", "Failed Redis operations (retried)",
            registry=registry)
        self.rebuilds = Counter(
            "vigil_cache_rebuilds_total", "Rebuilds from the database", registry=registry)
        self.rebuild_seconds = Gauge(
            "vigil_cache_rebuild_seconds", "Duration of the last rebuild", registry=registry)
        self.rebuild_points = Gauge(
            "vigil_cache_rebuild_points", "Points loaded by the last rebuild", registry=registry)
        self.state_published = Counter(
            "vigil_cache_state_published_total", "Retained state summaries published",
            registry=registry)
        self.pending = Gauge(
            "vigil_cache_pending_messages", "Messages received and not yet applied",
            registry=registry)
