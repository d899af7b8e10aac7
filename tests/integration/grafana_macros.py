"""Read the committed dashboards and expand their SQL the way Grafana does before running it.

Grafana's PostgreSQL datasource interpolates dashboard variables in the browser, then expands
its macros on the server (``$__timeFilter(col)`` -> ``col BETWEEN '<from>' AND '<to>'`` with
RFC 3339 UTC timestamps). :func:`expand` does both, and refuses SQL that would still hold a
``$`` macro or variable it does not know, so a new macro cannot slip past the tests unexpanded.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
DASHBOARDS = ROOT / "infra" / "grafana" / "dashboards"
GENERATOR = ROOT / "infra" / "grafana" / "dashboards.py"


@dataclass(frozen=True, slots=True)
class PanelSql:
    """One panel's target, with what the checks need to know about the panel."""

    dashboard: str
    title: str
    panel_type: str
    unit: str | None
    datasource_uid: str | None
    target_uid: str | None
    raw_sql: str

    @property
    def key(self) -> tuple[str, str]:
        """``(dashboard uid, panel title)``: how expectations name a panel."""
        return (self.dashboard, self.title)


def load_dashboards(folder: Path = DASHBOARDS) -> dict[str, dict[str, Any]]:
    """Every dashboard JSON in ``folder``, by file name."""
    return {p.name: json.loads(p.read_text()) for p in sorted(folder.glob("*.json"))}


def _walk(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    # Collapsed rows hold their panels; expanded rows are followed by them.
    out: list[dict[str, Any]] = []
    for panel in panels:
        out.append(panel)
        out += _walk(panel.get("panels", []))
    return [p for p in out if p.get("type") != "row"]


def panel_sql(dashboards: dict[str, dict[str, Any]] | None = None) -> list[PanelSql]:
    """Every target of every panel of every committed dashboard."""
    found = []
    for model in (dashboards or load_dashboards()).values():
        for panel in _walk(model.get("panels", [])):
            defaults = panel.get("fieldConfig", {}).get("defaults", {})
            for target in panel.get("targets", []):
                found.append(PanelSql(
                    model["uid"], panel.get("title", ""), panel["type"], defaults.get("unit"),
                    panel.get("datasource", {}).get("uid"),
                    target.get("datasource", {}).get("uid"), target["rawSql"],
                ))
    return found


def variable_queries(dashboards: dict[str, dict[str, Any]] | None = None) -> list[str]:
    """The SQL of every query variable."""
    return [v["query"] for model in (dashboards or load_dashboards()).values()
            for v in model.get("templating", {}).get("list", []) if v.get("type") == "query"]


def _ts(t: datetime) -> str:
    return "'" + t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") + "'"


def _interval_text(ms: int) -> str:
    """Grafana's ``$__interval`` spelling (``1m``, ``1h``, ``1d``; ``ms`` otherwise)."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _sqlstring(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def expand(sql: str, *, start: datetime, end: datetime, interval_ms: int,
           variables: dict[str, str]) -> str:
    """``sql`` with Grafana's variables and PostgreSQL macros replaced."""
    out = re.sub(r"\$__timeFilter\(([^()]*)\)",
                 lambda m: f"{m.group(1).strip()} BETWEEN {_ts(start)} AND {_ts(end)}", sql)
    out = out.replace("$__timeFrom()", _ts(start)).replace("$__timeTo()", _ts(end))
    # Longest names first: $__interval is a prefix of $__interval_ms.
    out = out.replace("$__interval_ms", str(interval_ms))
    out = out.replace("$__interval", _interval_text(interval_ms))
    for name, value in variables.items():
        out = out.replace(f"${{{name}:sqlstring}}", _sqlstring(value))
        out = out.replace(f"${{{name}}}", value)
        out = re.sub(rf"\${name}\b", value, out)
    left = re.findall(r"\$\{?[A-Za-z_]\w*", out)
    assert not left, f"unexpanded Grafana variables or macros {left} in:\n{out}"
    return out
