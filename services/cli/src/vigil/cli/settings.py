"""How the CLI finds its settings: the environment first, then the running local stack."""

from __future__ import annotations

import os

from vigil.cli.stack import LocalStack, state_dir
from vigil.core.config import CommonSettings, load_or_exit


def load() -> CommonSettings:
    """Settings from VIGIL_* variables; unset connection keys default to the local stack's."""
    for key, value in LocalStack(state_dir()).saved_env().items():
        os.environ.setdefault(key, value)
    return load_or_exit(CommonSettings)
