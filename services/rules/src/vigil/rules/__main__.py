"""`python -m vigil.rules`: load settings and rules, run the service."""

from __future__ import annotations

import asyncio
import sys

from vigil.core import logging as vlog
from vigil.core.config import load_or_exit


def main() -> None:
    """Entry point: a configuration or rule file error is one clear line each and exit code 2."""
    from vigil.rules.settings import RulesSettings

    settings = load_or_exit(RulesSettings)
    vlog.configure(settings.log_level, "rules")
    from vigil.rules.app import RulesService
    from vigil.rules.load import RuleError

    try:
        service = RulesService(settings)
    except RuleError as exc:
        for problem in exc.problems:
            sys.stderr.write(f"rule error: {problem}\n")
        sys.exit(2)
    asyncio.run(service.run())


if __name__ == "__main__":
    main()
