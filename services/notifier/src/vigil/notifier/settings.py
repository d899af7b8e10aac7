"""Notifier settings: the common VIGIL_* keys plus VIGIL_NOTIFIER_*."""

from __future__ import annotations

import socket

from pydantic import Field, SecretStr, field_validator

from vigil.core.config import CommonSettings


class NotifierSettings(CommonSettings):
    """Environment variables of the notifier (README, configuration table)."""

    # None: no routing file, so nothing is routed (the service still runs and says so).
    notifier_routing_file: str | None = None
    # Base URL of Grafana; when set, every page links the patient's vitals dashboard.
    notifier_grafana_url: str = ""
    # Grafana's API as the notifier reaches it (e.g. http://grafana:3000); empty: no annotations.
    notifier_grafana_api_url: str = ""
    # A service-account token that may write annotations (a secret: also from the secrets dir).
    notifier_grafana_token: SecretStr | None = None
    # Empty: organisation-wide annotations, which Patient vitals shows by its tag query.
    notifier_grafana_dashboard_uid: str = ""
    notifier_grafana_timeout_s: float = Field(default=5.0, gt=0, le=60)
    # How often the alarm-fatigue gauges are refreshed from the database.
    notifier_fatigue_refresh_s: float = Field(default=60.0, gt=0)
    notifier_ack_hint: str = "Ack id: {alert_id}"
    # Unset: no ack links in messages and /ack/… answers 404 (acks still work by API and MQTT).
    notifier_ack_secret: SecretStr | None = None
    notifier_ack_ttl_s: float = Field(default=86_400.0, gt=0)
    # Where people reach the notifier's HTTP API; ack links start with it.
    notifier_public_url: str = ""
    notifier_retry_attempts: int = Field(default=5, ge=1, le=20)
    notifier_retry_base_s: float = Field(default=1.0, gt=0)
    notifier_retry_cap_s: float = Field(default=60.0, gt=0)
    # Must be stable: the broker keeps the persistent session (queued alerts) under this id.
    notifier_client_id: str = Field(default_factory=lambda: f"notifier-{socket.gethostname()}")
    notifier_http_host: str = "0.0.0.0"  # noqa: S104 - probes and Prometheus scrape the pod IP
    notifier_http_port: int = Field(default=8083, ge=0, le=65535)

    @field_validator("notifier_ack_hint")
    @classmethod
    def _valid_hint(cls, value: str) -> str:
        try:
            value.format(alert_id="a1", ack_url="http://x/ack/t")
        except (KeyError, IndexError, ValueError) as error:
            raise ValueError(f"only {{alert_id}} and {{ack_url}} may be used ({error})") from None
        return value

    @field_validator("notifier_ack_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            return None
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("notifier_public_url")
    @classmethod
    def _valid_public_url(cls, value: str) -> str:
        if value and not value.startswith(("http://", "https://")):
            raise ValueError(f"must start with http:// or https://, got {value!r}")
        return value.rstrip("/")

    def public_url(self) -> str:
        """``VIGIL_NOTIFIER_PUBLIC_URL``, else this process's own address (local use)."""
        return self.notifier_public_url or f"http://127.0.0.1:{self.notifier_http_port}"
