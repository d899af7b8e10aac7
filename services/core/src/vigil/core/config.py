"""Settings shared by every service and the CLI (12-factor: environment variables only).

Each service subclasses :class:`CommonSettings` with its own prefix (``VIGIL_INGEST_`` …) for
its own keys; the common keys keep the ``VIGIL_`` prefix everywhere. Secrets may also be read
from files in ``VIGIL_SECRETS_DIR`` (a mounted Kubernetes secret), one file per variable name.
"""

from __future__ import annotations

import os
import sys
from typing import Literal, TypeVar
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_DATABASE_URL = "postgresql://vigil:vigil@127.0.0.1:5432/vigil"


class MqttUrl(BaseModel, frozen=True):
    """A broker address parsed from ``mqtt://user:pass@host:port`` (``mqtts://`` for TLS)."""

    host: str
    port: int
    tls: bool = False
    username: str | None = None
    password: str | None = None

    @classmethod
    def parse(cls, url: str) -> MqttUrl:
        """Parse and validate a broker URL, naming what is wrong."""
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts", "tcp", "ssl"):
            raise ValueError(f"scheme must be mqtt:// or mqtts://, got {parts.scheme!r}")
        if not parts.hostname:
            raise ValueError("the broker URL has no host")
        tls = parts.scheme in ("mqtts", "ssl")
        try:
            port = parts.port or (8883 if tls else 1883)
        except ValueError as exc:
            raise ValueError(f"bad port in broker URL: {exc}") from None
        return cls(
            host=parts.hostname,
            port=port,
            tls=tls,
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
        )


def _secrets_dir() -> str | None:
    path = os.environ.get("VIGIL_SECRETS_DIR")
    return path if path and os.path.isdir(path) else None


class CommonSettings(BaseSettings):
    """Keys every Vigil process reads (see the README's configuration table)."""

    model_config = SettingsConfigDict(
        env_prefix="VIGIL_", extra="ignore", secrets_dir=_secrets_dir(), case_sensitive=False
    )

    environment: Literal["development", "test", "production"] = "development"
    mqtt_url: str = "mqtt://127.0.0.1:1883"
    database_url: str = DEV_DATABASE_URL
    redis_url: str = "redis://127.0.0.1:6379/0"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    readings_shards: int = Field(default=16, ge=1, le=1024)
    # pglite-socket and PgBouncer (transaction mode) cannot keep prepared statements.
    db_statement_cache: int = Field(default=100, ge=0)

    @field_validator("mqtt_url")
    @classmethod
    def _valid_mqtt_url(cls, value: str) -> str:
        MqttUrl.parse(value)
        return value

    @field_validator("database_url")
    @classmethod
    def _valid_database_url(cls, value: str) -> str:
        if urlsplit(value).scheme not in ("postgresql", "postgres"):
            raise ValueError("must start with postgresql://")
        return value

    @model_validator(mode="after")
    def _no_dev_secrets_in_production(self) -> CommonSettings:
        if self.environment == "production" and self.database_url == DEV_DATABASE_URL:
            raise ValueError(
                "VIGIL_DATABASE_URL still has the development password; set it for production"
            )
        return self

    @property
    def mqtt(self) -> MqttUrl:
        """The parsed broker address."""
        return MqttUrl.parse(self.mqtt_url)


S = TypeVar("S", bound=BaseSettings)


def load_or_exit(cls: type[S]) -> S:
    """Build settings; on a bad value print one line per variable and exit with status 2."""
    try:
        return cls()
    except ValidationError as exc:
        for err in exc.errors():
            name = "VIGIL_" + "_".join(str(p) for p in err["loc"]).upper()
            sys.stderr.write(f"configuration error: {name}: {err['msg']}\n")
        raise SystemExit(2) from None
