"""`python -m vigil.ingest`: load settings, run the service."""

from __future__ import annotations

import asyncio
import sys

from pydantic import ValidationError

from vigil.core import logging as vlog


def main() -> None:
    """Entry point: a configuration error is one clear line and exit code 2."""
    from vigil.ingest.settings import IngestSettings

    try:
        settings = IngestSettings()
    except ValidationError as exc:
        for err in exc.errors():
            field = "VIGIL_" + "_".join(str(p) for p in err["loc"]).upper()
            sys.stderr.write(f"configuration error: {field}: {err['msg']}\n")
        sys.exit(2)
    vlog.configure(settings.log_level, "ingest")
    from vigil.ingest.app import IngestService

    asyncio.run(IngestService(settings).run())


if __name__ == "__main__":
    main()
