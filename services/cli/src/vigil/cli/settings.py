"""How the CLI finds its settings: the environment first, then the running local stack."""

from __future__ import annotations

import os
import sys

from pydantic import ValidationError

from vigil.cli.stack import LocalStack, state_dir
from vigil.core.config import CommonSettings


def load() -> CommonSettings:
    """Settings from VIGIL_* variables; unset connection keys default to the local stack's."""
    for key, value in LocalStack(state_dir()).saved_env().items():
        os.environ.setdefault(key, value)
    try:
        return CommonSettings()
    except ValidationError as exc:
        for err in exc.errors():
            name = "VIGIL_" + "_".join(str(p) for p in err["loc"]).upper()
            print(f"configuration error: {name}: {err['msg']}", file=sys.stderr)
        raise SystemExit(2) from None
