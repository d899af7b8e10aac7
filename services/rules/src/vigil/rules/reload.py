"""Hot reload of the rule file and the per-patient overrides.

A rule file that fails validation is refused with one log line and a metric; the rules in
force stay in force, so a bad ConfigMap never takes down a running service.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import asyncpg

from vigil.core import logging as vlog
from vigil.rules import store
from vigil.rules.load import RuleError, load_file
from vigil.rules.metrics import RulesMetrics
from vigil.rules.model import Rule
from vigil.rules.ruleset import Override, RuleSet

log = vlog.get(__name__)


class Reloader:
    """The rules in force; :meth:`refresh_file` and :meth:`refresh_overrides` say if changed."""

    def __init__(self, path: str | None, metrics: RulesMetrics) -> None:
        self.path = path
        self.metrics = metrics
        self.rules: list[Rule] = load_file(path)  # at start, an invalid file is fatal
        self.overrides: list[Override] = []
        self._digest = self._read_digest()
        self._ruleset = RuleSet(self.rules)
        metrics.rules_loaded.set(len(self.rules))

    def _read_digest(self) -> str | None:
        if self.path is None:
            return None
        try:
            return hashlib.sha256(Path(self.path).read_bytes()).hexdigest()
        except OSError:
            return None

    def ruleset(self) -> RuleSet:
        """The current rule set (rebuilt only when something changed)."""
        return self._ruleset

    def refresh_file(self) -> bool:
        """Reload the rule file if its content changed and it is valid."""
        digest = self._read_digest()
        if self.path is None or digest is None or digest == self._digest:
            return False
        self._digest = digest
        try:
            rules = load_file(self.path)
        except RuleError as exc:
            self.metrics.rule_file_errors.inc()
            log.error("rule_file_refused", file=self.path, problems=exc.problems)
            return False
        self.rules = rules
        self._ruleset = RuleSet(self.rules, self.overrides)
        self.metrics.rules_loaded.set(len(rules))
        log.info("rule_file_loaded", file=self.path, rules=len(rules))
        return True

    async def refresh_overrides(self, conn: asyncpg.Connection) -> bool:
        """Reload the overrides if the table changed."""
        overrides = await store.overrides(conn)
        if overrides == self.overrides:
            return False
        self.overrides = overrides
        self._ruleset = RuleSet(self.rules, overrides)
        log.info("overrides_loaded", overrides=len(overrides))
        return True
