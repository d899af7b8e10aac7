"""Building blocks shared by the Vigil dashboards: the datasource, SQL targets, panel defaults.

grafana-foundation-sdk ships no PostgreSQL query type, so :class:`SqlTarget` is one: it emits
exactly what Grafana's PostgreSQL query editor saves in code mode.
"""

from __future__ import annotations

from typing import Any, Literal, Protocol, Self, TypeVar

from grafana_foundation_sdk.builders import common as cb
from grafana_foundation_sdk.builders import dashboard as db
from grafana_foundation_sdk.cog import builder as cogbuilder
from grafana_foundation_sdk.cog import variants as cogvariants
from grafana_foundation_sdk.models import dashboard as dm
from queries import PATIENTS  # a sibling: the script's folder is on sys.path

DATASOURCE_UID = "vigil-timescaledb"
# The plugin id Grafana 10.3+ gives the built-in PostgreSQL datasource (`postgres` is an alias).
DATASOURCE_TYPE = "grafana-postgresql-datasource"
DATASOURCE = dm.DataSourceRef(type_val=DATASOURCE_TYPE, uid=DATASOURCE_UID)

Format = Literal["time_series", "table"]


class SqlQuery(cogvariants.Dataquery):
    """A raw-SQL query of the PostgreSQL datasource."""

    def __init__(self, ref_id: str, raw_sql: str, fmt: Format) -> None:
        self.ref_id = ref_id
        self.raw_sql = raw_sql
        self.format = fmt

    def to_json(self) -> dict[str, object]:
        """The target as Grafana stores it."""
        return {
            "datasource": DATASOURCE.to_json(),
            "editorMode": "code",
            "format": self.format,
            "rawQuery": True,
            "rawSql": self.raw_sql,
            "refId": self.ref_id,
        }


class SqlTarget(cogbuilder.Builder[cogvariants.Dataquery]):
    """Builder for :class:`SqlQuery`, usable wherever the SDK takes a query builder."""

    def __init__(self, raw_sql: str, fmt: Format = "time_series", ref_id: str = "A") -> None:
        self._query = SqlQuery(ref_id, raw_sql, fmt)

    def build(self) -> SqlQuery:
        """The query."""
        return self._query


class PanelBuilder(Protocol):
    """What every SDK panel builder offers and :func:`common` relies on."""

    def title(self, title: str) -> Self: ...
    def description(self, description: str) -> Self: ...
    def datasource(self, datasource: dm.DataSourceRef) -> Self: ...
    def with_target(self, target: cogbuilder.Builder[cogvariants.Dataquery]) -> Self: ...
    def unit(self, unit: str) -> Self: ...
    def span(self, w: int) -> Self: ...
    def height(self, h: int) -> Self: ...
    def interval(self, interval: str) -> Self: ...


P = TypeVar("P", bound=PanelBuilder)


def common(panel: P, title: str, description: str, sql: str, unit: str,
           fmt: Format = "time_series", w: int = 12, h: int = 8) -> P:
    """Title, description, the one SQL target, unit and size that every panel has."""
    return (
        panel.title(title).description(description).datasource(DATASOURCE)
        .with_target(SqlTarget(sql, fmt)).unit(unit).span(w).height(h)
        # Buckets below a minute would split the finest rollup; Grafana widens $__interval_ms.
        .interval("1m")
    )


def thresholds(base: str, *steps: tuple[float, str]) -> db.ThresholdsConfig:
    """Absolute thresholds: ``base`` colour below the first step, then each step's colour."""
    return db.ThresholdsConfig().mode(dm.ThresholdsMode.ABSOLUTE).steps(
        [dm.Threshold(value=None, color=base)]
        + [dm.Threshold(value=v, color=c) for v, c in steps]
    )


def last_value() -> cb.ReduceDataOptions:
    """Stat reduction: the last non-null value of each field."""
    return cb.ReduceDataOptions().calcs(["lastNotNull"]).values(False)


def patient_variable() -> db.QueryVariable:
    """The ``patient`` selector every clinical dashboard filters on."""
    return (
        db.QueryVariable("patient").label("Patient").datasource(DATASOURCE)
        .query(PATIENTS).refresh(dm.VariableRefresh.ON_DASHBOARD_LOAD)
        .sort(dm.VariableSort.ALPHABETICAL_ASC).multi(False).include_all(False)
    )


def with_ids(dashboard: dict[str, Any]) -> dict[str, Any]:
    """Number the panels 1, 2, ... in layout order (Grafana wants unique ids per dashboard)."""
    for n, panel in enumerate(dashboard.get("panels", []), start=1):
        panel["id"] = n
    return dashboard
