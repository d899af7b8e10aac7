"""Walk the routing tree: which routes (and so receivers) an alert goes to."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from vigil.notifier.config import Matchers, Route
from vigil.notifier.model import Alert


def matches(matchers: Matchers, alert: Alert, now: float, tz: ZoneInfo) -> bool:
    """True when every condition of ``matchers`` holds for ``alert`` at ``now``."""
    if matchers.severities is not None and alert.severity not in matchers.severities:
        return False
    for name, allowed in matchers.labels.items():
        if alert.label(name) not in allowed:
            return False
    if matchers.time_window is None and matchers.days is None:
        return True
    local = datetime.fromtimestamp(now, UTC).astimezone(tz)
    minute = local.hour * 60 + local.minute
    start, end = matchers.time_window or (0, 24 * 60)
    inside = start <= minute < end if start <= end else minute >= start or minute < end
    if not inside:
        return False
    if matchers.days is not None:
        # A window that wraps midnight belongs to the day it started (Fri 22:00 - Sat 07:00).
        day = local.weekday() - (1 if start > end and minute < end else 0)
        if day % 7 not in matchers.days:
            return False
    return True


def route(root: Route, alert: Alert, now: float, tz: ZoneInfo) -> list[Route]:
    """Alertmanager semantics: the deepest matching routes; siblings after a match are
    tried only when it has ``continue: true``; a node with no matching child matches itself."""
    if not matches(root.matchers, alert, now, tz):
        return []
    found: list[Route] = []
    for child in root.routes:
        below = route(child, alert, now, tz)
        if below:
            found.extend(below)
            if not child.continue_:
                break
    return found or [root]
