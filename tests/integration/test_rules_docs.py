"""The rules README documents every VIGIL_RULES_* setting."""

from __future__ import annotations

import re
from pathlib import Path

from vigil.rules.settings import RulesSettings

README = Path(__file__).resolve().parents[2] / "services" / "rules" / "README.md"


def test_every_rules_setting_is_in_the_rules_readme():
    own = {f"VIGIL_{n.upper()}" for n in RulesSettings.model_fields if n.startswith("rules_")}
    documented = set(re.findall(r"`(VIGIL_[A-Z0-9_]+)`", README.read_text()))
    assert sorted(own - documented) == []
