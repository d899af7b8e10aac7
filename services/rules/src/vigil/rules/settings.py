"""Rules settings: the common VIGIL_* keys plus VIGIL_RULES_*."""

from __future__ import annotations

import re
import socket

from pydantic import Field, model_validator

from vigil.core.config import CommonSettings


def _ordinal_from_hostname() -> int:
    """A StatefulSet pod is ``<name>-<ordinal>``; anything else is replica 0."""
    m = re.search(r"-(\d+)$", socket.gethostname())
    return int(m.group(1)) if m else 0


class RulesSettings(CommonSettings):
    """Environment variables of `vigil rules` (README, configuration table)."""

    # None: the rules packaged with the service (infra/rules/default-rules.yaml).
    rules_file: str | None = None
    rules_replicas: int = Field(default=1, ge=1, le=1024)
    rules_ordinal: int = Field(default_factory=_ordinal_from_hostname, ge=0)
    # Must be stable per replica (the StatefulSet pod name): the broker keeps the persistent
    # session, and so the unacknowledged readings, under this id.
    rules_client_id: str = Field(default_factory=lambda: f"rules-{socket.gethostname()}")
    rules_http_host: str = "0.0.0.0"  # noqa: S104 - probes and Prometheus scrape the pod IP
    rules_http_port: int = Field(default=8082, ge=0, le=65535)
    rules_reload_s: float = Field(default=10.0, gt=0)
    rules_tick_s: float = Field(default=5.0, gt=0)
    rules_rebuild_s: float = Field(default=3600.0, ge=0)
    rules_max_future_skew_s: float = Field(default=300.0, ge=0)
    rules_batch_messages: int = Field(default=100, ge=1, le=20_000)
    rules_receive_maximum: int = Field(default=2000, ge=1, le=65_535)

    @model_validator(mode="after")
    def _ordinal_in_range(self) -> RulesSettings:
        if self.rules_ordinal >= self.rules_replicas:
            raise ValueError(f"VIGIL_RULES_ORDINAL ({self.rules_ordinal}) must be below "
                             f"VIGIL_RULES_REPLICAS ({self.rules_replicas})")
        return self

    def owned_shards(self) -> list[int]:
        """Shards s with s % replicas == ordinal."""
        return [s for s in range(self.readings_shards)
                if s % self.rules_replicas == self.rules_ordinal]
