"""`python -m vigil.notifier`: load settings and the routing file, run the service."""

from __future__ import annotations

import asyncio
import sys

from vigil.core import logging as vlog
from vigil.core.config import load_or_exit


def main() -> None:
    """Entry point: a configuration or routing file error is one clear line and exit code 2."""
    from vigil.notifier.settings import NotifierSettings

    settings = load_or_exit(NotifierSettings)
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
