"""`python -m vigil.ingest`: load settings, run the service."""

from __future__ import annotations

import asyncio

from vigil.core import logging as vlog
from vigil.core.config import load_or_exit


def main() -> None:
    """Entry point: a configuration error is one clear line and exit code 2."""
    from vigil.ingest.settings import IngestSettings

    settings = load_or_exit(IngestSettings)
    vlog.configure(settings.log_level, "ingest")
    from vigil.ingest.app import IngestService

    asyncio.run(IngestService(settings).run())


if __name__ == "__main__":
    main()
