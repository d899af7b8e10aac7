"""`python -m vigil.notifier`: load settings and the routing file, run the service."""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from vigil.core import logging as vlog


def main() -> None:
    """Entry point: a configuration or routing file error is one clear line and exit code 2."""
    from vigil.notifier.settings import NotifierSettings

    try:
        settings = NotifierSettings()
    except ValidationError as exc:
        for err in exc.errors():
            field = "VIGIL_" + "_".join(str(p) for p in err["loc"]).upper()
            sys.stderr.write(f"configuration error: {field}: {err['msg']}\n")
        sys.exit(2)
    vlog.configure(settings.log_level, "notifier")
    from vigil.notifier.app import NotifierService
    from vigil.notifier.config import ConfigError

    try:
        service = NotifierService(settings)
    except ConfigError as exc:
        sys.stderr.write(f"routing error: {exc}\n")
        sys.exit(2)
    asyncio.run(service.run())


if __name__ == "__main__":
    main()
