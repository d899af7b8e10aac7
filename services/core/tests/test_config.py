"""Settings validate at start-up and name the variable that is wrong."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from vigil.core.config import CommonSettings, MqttUrl


def test_mqtt_url_forms():
    assert MqttUrl.parse("mqtt://h:1884") == MqttUrl(host="h", port=1884)
    assert MqttUrl.parse("mqtts://u:p%40ss@h") == MqttUrl(host="h", port=8883, tls=True,
                                                          username="u", password="p@ss")


@pytest.mark.parametrize("url", ["http://h:1883", "mqtt://:1883", "mqtt://h:99999"])
def test_bad_mqtt_urls_are_refused(url):
    with pytest.raises(ValueError):  # noqa: PT011 - the message is checked below
        MqttUrl.parse(url)


def test_settings_error_names_the_variable(monkeypatch):
    monkeypatch.setenv("VIGIL_MQTT_URL", "http://nope")
    with pytest.raises(ValidationError, match="mqtt_url"):
        CommonSettings()


def test_production_refuses_the_development_password(monkeypatch):
    monkeypatch.setenv("VIGIL_ENVIRONMENT", "production")
    with pytest.raises(ValidationError, match="VIGIL_DATABASE_URL"):
        CommonSettings()
    monkeypatch.setenv("VIGIL_DATABASE_URL", "postgresql://vigil:s3cret@db:5432/vigil")
    assert CommonSettings().environment == "production"


def test_secrets_are_read_from_files(tmp_path, monkeypatch):
    (tmp_path / "vigil_database_url").write_text("postgresql://app:from-file@db/vigil")
    monkeypatch.delenv("VIGIL_DATABASE_URL", raising=False)
    settings = CommonSettings(_secrets_dir=tmp_path)
    assert settings.database_url == "postgresql://app:from-file@db/vigil"
