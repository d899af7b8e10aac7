"""Fixtures for the notifier's unit tests."""

from __future__ import annotations

import pytest

from services.notifier.tests.notifier_testkit import TESTDATA, FakeClock
from vigil.notifier import config


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def ward() -> config.Config:
    return config.load(TESTDATA / "routing.yaml")
