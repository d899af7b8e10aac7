"""The notifier README: every setting is in its table and its routing example is valid."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from vigil.core.config import CommonSettings
from vigil.notifier import channel, config
from vigil.notifier.settings import NotifierSettings

README = Path(__file__).resolve().parents[2] / "services" / "notifier" / "README.md"


def test_every_setting_is_documented() -> None:
    documented = set(re.findall(r"`(VIGIL_[A-Z0-9_]+)`", README.read_text()))
    own = set(NotifierSettings.model_fields) - set(CommonSettings.model_fields)
    missing = sorted({f"VIGIL_{name.upper()}" for name in own} - documented)
    assert missing == [], f"add {missing} to the configuration table of {README.name}"


def test_the_routing_example_loads_and_its_urls_are_valid() -> None:
    blocks = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.DOTALL)
    assert len(blocks) == 1
    secrets = {"PAGER_TOKEN": "t0ken"}
    parsed = config.parse(yaml.safe_load(blocks[0]), source="README.md", lookup=secrets.get)
    assert parsed.route is not None
    assert [r.path for r in parsed.route.routes] == [
        "route.routes[0](audit)", "route.routes[1](critical)", "route.routes[2](night)",
        "route.routes[3](weekend)"]
    assert parsed.receivers["charge-nurse"].urls[0].endswith("?token=t0ken")
    assert set(channel.build(parsed.receivers)) == {"ward-nurse", "charge-nurse", "doctor",
                                                     "audit"}
