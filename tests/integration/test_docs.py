"""The README's configuration table names every setting a service reads."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest

from vigil.core.config import CommonSettings

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = [("vigil.ingest.settings", "IngestSettings", ROOT / "README.md"),
            ("vigil.cache.settings", "CacheSettings", ROOT / "services" / "cache" / "README.md"),
            ("vigil.rules.settings", "RulesSettings", ROOT / "services" / "rules" / "README.md")]


def _documented(path: Path) -> set[str]:
    return set(re.findall(r"`(VIGIL_[A-Z0-9_]+)`", path.read_text()))


@pytest.mark.parametrize(("module", "cls", "doc"), SETTINGS)
def test_every_setting_is_documented(module, cls, doc):
    settings = getattr(importlib.import_module(module), cls)
    # The common keys are documented once, in the top-level README.
    own = set(settings.model_fields) - set(CommonSettings.model_fields)
    names = {f"VIGIL_{name.upper()}" for name in own}
    missing = sorted(names - _documented(doc))
    assert missing == [], f"add {missing} to the configuration table of {doc.name}"


def test_common_settings_are_in_the_readme():
    names = {f"VIGIL_{name.upper()}" for name in CommonSettings.model_fields}
    assert names <= _documented(ROOT / "README.md")
