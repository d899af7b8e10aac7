"""Notifier settings: the common VIGIL_* keys plus VIGIL_NOTIFIER_*."""

from __future__ import annotations

import socket

from pydantic import Field

from vigil.core.config import CommonSettings


class NotifierSettings(CommonSettings):
    """Environment variables of the notifier (README, configuration table)."""

    # None: no routing file, so nothing is routed (the service still runs and says so).
    notifier_routing_file: str | None = None
    # Base URL of Grafana; when set, every page links the patient's vitals dashboard.
    notifier_grafana_url: str = ""
    notifier_ack_hint: str = "Ack id: {alert_id}"
    notifier_retry_attempts: int = Field(default=5, ge=1, le=20)
    notifier_retry_base_s: float = Field(default=1.0, gt=0)
    notifier_retry_cap_s: float = Field(default=60.0, gt=0)
    # Must be stable: the broker keeps the persistent session (queued alerts) under this id.
    notifier_client_id: str = Field(default_factory=lambda: f"notifier-{socket.gethostname()}")
    notifier_http_host: str = "0.0.0.0"  # noqa: S104 - probes and Prometheus scrape the pod IP
    notifier_http_port: int = Field(default=8083, ge=0, le=65535)
