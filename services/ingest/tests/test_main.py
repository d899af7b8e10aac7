"""A bad configuration stops ingest at start with one line naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest


@pytest.mark.parametrize(("var", "value", "expected"), [
    ("VIGIL_INGEST_FLUSH_MS", "abc", "VIGIL_INGEST_FLUSH_MS: Input should be a valid integer"),
    ("VIGIL_MQTT_URL", "http://broker", "VIGIL_MQTT_URL: Value error, scheme must be mqtt://"),
    ("VIGIL_INGEST_BATCH_ROWS", "0", "VIGIL_INGEST_BATCH_ROWS: Input should be greater than"),
])
def test_bad_setting_exits_2_naming_the_variable(var, value, expected):
    env = {**os.environ, var: value}
    done = subprocess.run([sys.executable, "-m", "vigil.ingest"], env=env, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 2
    assert expected in done.stderr
