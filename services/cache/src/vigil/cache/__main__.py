"""`python -m vigil.cache`: load settings, run the service."""

from __future__ import annotations

import asyncio

from vigil.core import logging as vlog
from vigil.core.config import load_or_exit


def main() -> None:
    """Entry point: a configuration error is one clear line and exit code 2."""
    from vigil.cache.settings import CacheSettings

    settings = load_or_exit(CacheSettings)
    vlog.configure(settings.log_level, "cache")
    from vigil.cache.app import CacheService

    asyncio.run(CacheService(settings).run())


if __name__ == "__main__":
    main()
